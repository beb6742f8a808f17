<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="fr_FR">
<context>
    <name>DEAL</name>
    <message>
        <location filename="../../work/main/deal_qgis/clicks.py" line="53"/>
        <source>Add click</source>
        <translation>Ajouter un clic</translation>
    </message>
    <message>
        <location filename="../../work/main/deal_qgis/clicks.py" line="67"/>
        <source>Remove click</source>
        <translation>Supprimer le clic</translation>
    </message>
    <message>
        <location filename="../../work/main/deal_qgis/clicks.py" line="82"/>
        <source>Clear clicks</source>
        <translation>Effacer les clics</translation>
    </message>
    <message>
        <location filename="../../work/main/deal_qgis/dependency_panel.py" line="16"/>
        <source>Installing {0} for DEAL</source>
        <translation>Installation de {0} pour DEAL</translation>
    </message>
    <message>
        <location filename="../../work/main/deal_qgis/dependency_panel.py" line="58"/>
        <source>DEAL needs the Python package(s) {0}, which this QGIS cannot import. Detection is disabled until they are installed into {1}.</source>
        <translation>DEAL a besoin du ou des paquets Python {0}, que ce QGIS ne peut pas importer. La détection est désactivée tant qu'ils ne sont pas installés dans {1}.</translation>
    </message>
    <message>
        <location filename="../../work/main/deal_qgis/dependency_panel.py" line="60"/>
        <source>Install {0}</source>
        <translation>Installer {0}</translation>
    </message>
    <message>
        <location filename="../../work/main/deal_qgis/dependency_panel.py" line="66"/>
        <source>Installing {0} with pip... QGIS stays usable meanwhile.</source>
        <translation>Installation de {0} avec pip… QGIS reste utilisable pendant ce temps.</translation>
    </message>
    <message>
        <location filename="../../work/main/deal_qgis/dependency_panel.py" line="78"/>
        <source>Packages installed: DEAL is ready.</source>
        <translation>Paquets installés : DEAL est prêt.</translation>
    </message>
    <message>
        <location filename="../../work/main/deal_qgis/dependency_panel.py" line="81"/>
        <source>Installing {0} failed; pip&apos;s output is in the Log Messages panel, DEAL tab. A restart of QGIS may be needed.</source>
        <translation>L'installation de {0} a échoué ; la sortie de pip se trouve dans le panneau Journal des messages, onglet DEAL. Un redémarrage de QGIS peut être nécessaire.</translation>
    </message>
    <message>
        <location filename="../../work/main/deal_qgis/detection_task.py" line="54"/>
        <source>DEAL detection</source>
        <translation>Détection DEAL</translation>
    </message>
    <message>
        <location filename="../../work/main/deal_qgis/detection_task.py" line="74"/>
        <source>loading model</source>
        <translation>chargement du modèle</translation>
    </message>
    <message>
        <location filename="../../work/main/deal_qgis/detection_task.py" line="98"/>
        <source>writing density raster</source>
        <translation>écriture du raster de densité</translation>
    </message>
    <message>
        <location filename="../../work/main/deal_qgis/detection_task.py" line="101"/>
        <source>Run cancelled.</source>
        <translation>Exécution annulée.</translation>
    </message>
    <message>
        <location filename="../../work/main/deal_qgis/plugin.py" line="84"/>
        <source>DEAL - Detect Any smalL object</source>
        <translation>DEAL - Détection de petits objets</translation>
    </message>
    <message>
        <location filename="../../work/main/deal_qgis/dock.py" line="116"/>
        <source>Raster</source>
        <translation>Raster</translation>
    </message>
    <message>
        <location filename="../../work/main/deal_qgis/dock.py" line="120"/>
        <source>Pick a preset or type a new category name, then click one object of that kind on the map.</source>
        <translation>Choisissez une catégorie prédéfinie ou saisissez un nouveau nom, puis cliquez sur un objet de ce type sur la carte.</translation>
    </message>
    <message>
        <location filename="../../work/main/deal_qgis/dock.py" line="165"/>
        <source>Category</source>
        <translation>Catégorie</translation>
    </message>
    <message>
        <location filename="../../work/main/deal_qgis/dock.py" line="126"/>
        <source>Click objects on the map</source>
        <translation>Cliquer des objets sur la carte</translation>
    </message>
    <message>
        <location filename="../../work/main/deal_qgis/dock.py" line="128"/>
        <source>Click one object (or a few) of the chosen category; Ctrl+Z undoes the last click.</source>
        <translation>Cliquez sur un objet (ou quelques-uns) de la catégorie choisie ; Ctrl+Z annule le dernier clic.</translation>
    </message>
    <message>
        <location filename="../../work/main/deal_qgis/dock.py" line="136"/>
        <source>Remove</source>
        <translation>Supprimer</translation>
    </message>
    <message>
        <location filename="../../work/main/deal_qgis/dock.py" line="138"/>
        <source>Undo</source>
        <translation>Annuler</translation>
    </message>
    <message>
        <location filename="../../work/main/deal_qgis/dock.py" line="140"/>
        <source>Clear</source>
        <translation>Effacer</translation>
    </message>
    <message>
        <location filename="../../work/main/deal_qgis/dock.py" line="148"/>
        <source>Detect</source>
        <translation>Détecter</translation>
    </message>
    <message>
        <location filename="../../work/main/deal_qgis/dock.py" line="150"/>
        <source>Cancel</source>
        <translation>Interrompre</translation>
    </message>
    <message>
        <location filename="../../work/main/deal_qgis/dock.py" line="165"/>
        <source>Count</source>
        <translation>Nombre</translation>
    </message>
    <message>
        <location filename="../../work/main/deal_qgis/dock.py" line="171"/>
        <source>Export detections...</source>
        <translation>Exporter les détections…</translation>
    </message>
    <message>
        <location filename="../../work/main/deal_qgis/dock.py" line="206"/>
        <source>Choose a raster layer in the DEAL panel first (open one with Layer &gt; Add Layer).</source>
        <translation>Choisissez d'abord une couche raster dans le panneau DEAL (ouvrez-en une avec Couche &gt; Ajouter une couche).</translation>
    </message>
    <message>
        <location filename="../../work/main/deal_qgis/dock.py" line="228"/>
        <source>Type or pick a category before clicking (e.g. vehicle).</source>
        <translation>Saisissez ou choisissez une catégorie avant de cliquer (par ex. vehicle).</translation>
    </message>
    <message>
        <location filename="../../work/main/deal_qgis/dock.py" line="232"/>
        <source>The click is outside the raster &apos;{0}&apos;; click on the image.</source>
        <translation>Le clic est en dehors du raster « {0} » ; cliquez sur l'image.</translation>
    </message>
    <message>
        <location filename="../../work/main/deal_qgis/dock.py" line="277"/>
        <source>A detection is already running; wait for it or cancel it.</source>
        <translation>Une détection est déjà en cours ; attendez-la ou interrompez-la.</translation>
    </message>
    <message>
        <location filename="../../work/main/deal_qgis/dock.py" line="279"/>
        <source>Install the missing Python packages first (see the top of the DEAL panel).</source>
        <translation>Installez d'abord les paquets Python manquants (voir le haut du panneau DEAL).</translation>
    </message>
    <message>
        <location filename="../../work/main/deal_qgis/dock.py" line="282"/>
        <source>Click at least one object on the map before running.</source>
        <translation>Cliquez sur au moins un objet sur la carte avant de lancer.</translation>
    </message>
    <message>
        <location filename="../../work/main/deal_qgis/dock.py" line="294"/>
        <source>starting</source>
        <translation>démarrage</translation>
    </message>
    <message>
        <location filename="../../work/main/deal_qgis/dock.py" line="302"/>
        <source>cancelling...</source>
        <translation>interruption…</translation>
    </message>
    <message>
        <location filename="../../work/main/deal_qgis/dock.py" line="317"/>
        <source>failed</source>
        <translation>échec</translation>
    </message>
    <message>
        <location filename="../../work/main/deal_qgis/dock.py" line="320"/>
        <source>cancelled: nothing was added</source>
        <translation>interrompu : rien n'a été ajouté</translation>
    </message>
    <message>
        <location filename="../../work/main/deal_qgis/dock.py" line="327"/>
        <source>DEAL detections - {0}</source>
        <translation>Détections DEAL - {0}</translation>
    </message>
    <message>
        <location filename="../../work/main/deal_qgis/dock.py" line="337"/>
        <source>DEAL density - {0}</source>
        <translation>Densité DEAL - {0}</translation>
    </message>
    <message>
        <location filename="../../work/main/deal_qgis/dock.py" line="343"/>
        <source>done in {0:.1f} s</source>
        <translation>terminé en {0:.1f} s</translation>
    </message>
    <message>
        <location filename="../../work/main/deal_qgis/dock.py" line="71"/>
        <source>Scene encoded ({0} tiles, {1:.1f} s) — reused</source>
        <translation>Scène encodée ({0} tuiles, {1:.1f} s) — réutilisée</translation>
    </message>
    <message>
        <location filename="../../work/main/deal_qgis/dock.py" line="72"/>
        <source>Scene encoded ({0} tiles, {1:.1f} s)</source>
        <translation>Scène encodée ({0} tuiles, {1:.1f} s)</translation>
    </message>
    <message>
        <location filename="../../work/main/deal_qgis/dock.py" line="347"/>
        <source>{0} objects found: {1}</source>
        <translation>{0} objets trouvés : {1}</translation>
    </message>
    <message>
        <location filename="../../work/main/deal_qgis/dock.py" line="362"/>
        <source>Run a detection first: there is no detection layer to export.</source>
        <translation>Lancez d'abord une détection : il n'y a aucune couche de détections à exporter.</translation>
    </message>
    <message>
        <location filename="../../work/main/deal_qgis/dock.py" line="363"/>
        <source>GeoPackage (*.gpkg)</source>
        <translation>GeoPackage (*.gpkg)</translation>
    </message>
    <message>
        <location filename="../../work/main/deal_qgis/dock.py" line="363"/>
        <source>Shapefile (*.shp)</source>
        <translation>Shapefile (*.shp)</translation>
    </message>
    <message>
        <location filename="../../work/main/deal_qgis/dock.py" line="363"/>
        <source>GeoJSON, WGS 84 (*.geojson)</source>
        <translation>GeoJSON, WGS 84 (*.geojson)</translation>
    </message>
    <message>
        <location filename="../../work/main/deal_qgis/dock.py" line="364"/>
        <source>Export detections</source>
        <translation>Exporter les détections</translation>
    </message>
    <message>
        <location filename="../../work/main/deal_qgis/dock.py" line="370"/>
        <source>Detections written to {0}</source>
        <translation>Détections écrites dans {0}</translation>
    </message>
    <message>
        <location filename="../../work/main/deal_qgis/error_reporting.py" line="30"/>
        <source>Unexpected error: {0}. Details are in the Log Messages panel, DEAL tab.</source>
        <translation>Erreur inattendue : {0}. Les détails sont dans le panneau Journal des messages, onglet DEAL.</translation>
    </message>
    <message>
        <location filename="../../work/main/deal_qgis/layer_source.py" line="35"/>
        <source>The layer &apos;{0}&apos; is not valid: its file cannot be read. Check that the file still exists.</source>
        <translation>La couche « {0} » n'est pas valide : son fichier est illisible. Vérifiez que le fichier existe toujours.</translation>
    </message>
    <message>
        <location filename="../../work/main/deal_qgis/layer_source.py" line="37"/>
        <source>The layer &apos;{0}&apos; is a web or database layer; DEAL reads raster files. Save it as a GeoTIFF (right-click &gt; Export &gt; Save As) and use that layer.</source>
        <translation>La couche « {0} » est une couche web ou de base de données ; DEAL lit des fichiers raster. Enregistrez-la en GeoTIFF (clic droit &gt; Exporter &gt; Enregistrer sous) et utilisez cette couche.</translation>
    </message>
    <message>
        <location filename="../../work/main/deal_qgis/layer_source.py" line="46"/>
        <source>GDAL cannot open &apos;{0}&apos;: {1}. Check that the file exists and is not truncated.</source>
        <translation>GDAL ne peut pas ouvrir « {0} » : {1}. Vérifiez que le fichier existe et n'est pas tronqué.</translation>
    </message>
    <message>
        <location filename="../../work/main/deal_qgis/layer_source.py" line="86"/>
        <source>The raster has no colour band (only alpha).</source>
        <translation>Le raster n'a aucune bande de couleur (seulement alpha).</translation>
    </message>
    <message>
        <location filename="../../work/main/deal_qgis/layer_source.py" line="103"/>
        <source>The raster &apos;{0}&apos; is empty (0 pixels).</source>
        <translation>Le raster « {0} » est vide (0 pixel).</translation>
    </message>
    <message>
        <location filename="../../work/main/deal_qgis/layer_source.py" line="107"/>
        <source>Band {0} does not exist: the raster has {1} bands.</source>
        <translation>La bande {0} n'existe pas : le raster a {1} bandes.</translation>
    </message>
    <message>
        <location filename="../../work/main/deal_qgis/layer_source.py" line="132"/>
        <source>Band {0} of &apos;{1}&apos; holds only nodata.</source>
        <translation>La bande {0} de « {1} » ne contient que des valeurs nodata.</translation>
    </message>
    <message>
        <location filename="../../work/main/deal_qgis/layer_source.py" line="177"/>
        <source>Reading &apos;{0}&apos; failed: {1}. The file may be truncated.</source>
        <translation>La lecture de « {0} » a échoué : {1}. Le fichier est peut-être tronqué.</translation>
    </message>
    <message>
        <location filename="../../work/main/deal_qgis/plugin.py" line="46"/>
        <source>The DEAL Processing tools could not be loaded:
{0}</source>
        <translation>Les outils de traitement DEAL n'ont pas pu être chargés :
{0}</translation>
    </message>
    <message>
        <location filename="../../work/main/deal_qgis/plugin.py" line="54"/>
        <source>Open the DEAL panel: click one object, find all objects of that kind</source>
        <translation>Ouvrir le panneau DEAL : cliquez sur un objet, trouvez tous les objets de ce type</translation>
    </message>
    <message>
        <location filename="../../work/main/deal_qgis/processing/detect_algorithm.py" line="73"/>
        <source>Detect small objects from point prompts</source>
        <translation>Détecter de petits objets à partir de points</translation>
    </message>
    <message>
        <location filename="../../work/main/deal_qgis/processing/detect_algorithm.py" line="76"/>
        <source>Finds every object like the clicked ones (cars, ships, aircraft...) in a raster.</source>
        <translation>Trouve dans un raster tous les objets semblables à ceux cliqués (voitures, navires, avions…).</translation>
    </message>
    <message>
        <location filename="../../work/main/deal_qgis/processing/prompt_points.py" line="47"/>
        <source>Prompt points</source>
        <translation>Points d'exemple</translation>
    </message>
    <message>
        <location filename="../../work/main/deal_qgis/processing/prompt_points.py" line="52"/>
        <source>Category field</source>
        <translation>Champ de catégorie</translation>
    </message>
    <message>
        <location filename="../../work/main/deal_qgis/processing/prompt_points.py" line="54"/>
        <source>Attribute of the prompt points holding each point&apos;s category, e.g. &apos;vehicle&apos; or &apos;ship&apos;. Points with the same category form one kind of object.</source>
        <translation>Attribut des points d'exemple contenant la catégorie de chaque point, par ex. « vehicle » ou « ship ». Les points de même catégorie forment un type d'objet.</translation>
    </message>
    <message>
        <location filename="../../work/main/deal_qgis/settings_panel.py" line="69"/>
        <source>Score threshold</source>
        <translation>Seuil de score</translation>
    </message>
    <message>
        <location filename="../../work/main/deal_qgis/processing/detect_algorithm.py" line="103"/>
        <source>Detections scoring below this (0 to 1) are dropped: raise it for fewer false alarms, lower it to miss fewer objects. Not set: the model&apos;s own threshold.</source>
        <translation>Les détections dont le score est inférieur (0 à 1) sont écartées : augmentez-le pour moins de fausses alertes, baissez-le pour manquer moins d'objets. Non défini : le seuil du modèle.</translation>
    </message>
    <message>
        <location filename="../../work/main/deal_qgis/processing/detect_algorithm.py" line="120"/>
        <source>Detected objects</source>
        <translation>Objets détectés</translation>
    </message>
    <message>
        <location filename="../../work/main/deal_qgis/processing/detect_algorithm.py" line="122"/>
        <source>One rectangle per object in the raster&apos;s CRS, with category, score (0 to 1), length_m, width_m and area_m2.</source>
        <translation>Un rectangle par objet dans le SCR du raster, avec category, score (0 à 1), length_m, width_m et area_m2.</translation>
    </message>
    <message>
        <location filename="../../work/main/deal_qgis/processing/detect_algorithm.py" line="125"/>
        <source>Density map</source>
        <translation>Carte de densité</translation>
    </message>
    <message>
        <location filename="../../work/main/deal_qgis/processing/detect_algorithm.py" line="127"/>
        <source>GeoTIFF of object density on a coarse grid: with several categories band 1 is their sum, then one band per category.</source>
        <translation>GeoTIFF de la densité d'objets sur une grille grossière : avec plusieurs catégories, la bande 1 est leur somme, puis une bande par catégorie.</translation>
    </message>
    <message>
        <location filename="../../work/main/deal_qgis/processing/detect_algorithm.py" line="130"/>
        <source>Counts per category</source>
        <translation>Nombres par catégorie</translation>
    </message>
    <message>
        <location filename="../../work/main/deal_qgis/processing/detect_algorithm.py" line="132"/>
        <source>A table (no geometry): category, count (objects detected) and estimated_count (the density map&apos;s total, an estimate independent of the threshold).</source>
        <translation>Une table (sans géométrie) : category, count (objets détectés) et estimated_count (total de la carte de densité, une estimation indépendante du seuil).</translation>
    </message>
    <message>
        <location filename="../../work/main/deal_qgis/processing/detect_algorithm.py" line="135"/>
        <source>Objects detected</source>
        <translation>Objets détectés</translation>
    </message>
    <message>
        <location filename="../../work/main/deal_qgis/processing/encode_algorithm.py" line="66"/>
        <source>Tiles encoded in this run</source>
        <translation>Tuiles encodées lors de cette exécution</translation>
    </message>
    <message>
        <location filename="../../work/main/deal_qgis/processing/prompt_points.py" line="70"/>
        <source>Choose the category field: the attribute of the prompt points that holds each point&apos;s category (e.g. &apos;vehicle&apos;).</source>
        <translation>Choisissez le champ de catégorie : l'attribut des points d'exemple qui contient la catégorie de chaque point (par ex. « vehicle »).</translation>
    </message>
    <message>
        <location filename="../../work/main/deal_qgis/processing/detect_algorithm.py" line="148"/>
        <source>{} prompt point(s); categories: {}.</source>
        <translation>{} point(s) d'exemple ; catégories : {}.</translation>
    </message>
    <message>
        <location filename="../../work/main/deal_qgis/processing/detect_algorithm.py" line="153"/>
        <source>Reusing the encoded raster of an earlier run.</source>
        <translation>Réutilisation du raster encodé lors d'une exécution précédente.</translation>
    </message>
    <message>
        <location filename="../../work/main/deal_qgis/processing/detect_algorithm.py" line="169"/>
        <source>Objects detected: {}.</source>
        <translation>Objets détectés : {}.</translation>
    </message>
    <message>
        <location filename="../../work/main/deal_qgis/processing/detect_algorithm.py" line="182"/>
        <source>Writing outputs</source>
        <translation>Écriture des sorties</translation>
    </message>
    <message>
        <location filename="../../work/main/deal_qgis/processing/encode_algorithm.py" line="36"/>
        <source>Encode raster for fast detection</source>
        <translation>Encoder le raster pour une détection rapide</translation>
    </message>
    <message>
        <location filename="../../work/main/deal_qgis/processing/encode_algorithm.py" line="39"/>
        <source>Prepares a raster once so that detections with any prompt points run fast.</source>
        <translation>Prépare un raster une fois pour que les détections avec n'importe quels points soient rapides.</translation>
    </message>
    <message>
        <location filename="../../work/main/deal_qgis/processing/scene_parameters.py" line="116"/>
        <source>Feature cache folder</source>
        <translation>Dossier de cache des caractéristiques</translation>
    </message>
    <message>
        <location filename="../../work/main/deal_qgis/processing/prompt_points.py" line="42"/>
        <source> and {} more</source>
        <translation> et {} autres</translation>
    </message>
    <message>
        <location filename="../../work/main/deal_qgis/processing/prompt_points.py" line="91"/>
        <source>The prompt layer has no field &apos;{}&apos;. Choose the field that holds each point&apos;s category (e.g. &apos;vehicle&apos;, &apos;ship&apos;).</source>
        <translation>La couche de points d'exemple n'a pas de champ « {} ». Choisissez le champ qui contient la catégorie de chaque point (par ex. « vehicle », « ship »).</translation>
    </message>
    <message>
        <location filename="../../work/main/deal_qgis/processing/prompt_points.py" line="94"/>
        <source>The prompt layer must hold points (one click on one object each); it holds {}.</source>
        <translation>La couche d'exemples doit contenir des points (un clic sur un objet chacun) ; elle contient {}.</translation>
    </message>
    <message>
        <location filename="../../work/main/deal_qgis/processing/prompt_points.py" line="127"/>
        <source>Field &apos;{}&apos; is empty for prompt point(s) {}. Give every point a category (e.g. &apos;vehicle&apos;) or remove it.</source>
        <translation>Le champ « {} » est vide pour le ou les points d'exemple {}. Donnez une catégorie à chaque point (par ex. « vehicle ») ou supprimez-le.</translation>
    </message>
    <message>
        <location filename="../../work/main/deal_qgis/processing/prompt_points.py" line="130"/>
        <source>Prompt point(s) {} cannot be reprojected from {} to the raster&apos;s CRS {}. Check the prompt layer&apos;s CRS.</source>
        <translation>Le ou les points d'exemple {} ne peuvent pas être reprojetés de {} vers le SCR du raster {}. Vérifiez le SCR de la couche d'exemples.</translation>
    </message>
    <message>
        <location filename="../../work/main/deal_qgis/processing/prompt_points.py" line="135"/>
        <source>Prompt point(s) {} lie outside the raster. Move them onto the raster, or check the prompt layer&apos;s CRS ({}).</source>
        <translation>Le ou les points d'exemple {} sont en dehors du raster. Déplacez-les sur le raster ou vérifiez le SCR de la couche d'exemples ({}).</translation>
    </message>
    <message>
        <location filename="../../work/main/deal_qgis/processing/prompt_points.py" line="139"/>
        <source>The prompt layer holds no points. Add at least one point on an object of each kind to find (or uncheck &apos;Selected features only&apos; if nothing is selected).</source>
        <translation>La couche d'exemples ne contient aucun point. Ajoutez au moins un point sur un objet de chaque type à trouver (ou décochez « Entités sélectionnées uniquement » si rien n'est sélectionné).</translation>
    </message>
    <message>
        <location filename="../../work/main/deal_qgis/processing/scene_parameters.py" line="82"/>
        <source>Raster (georeferenced image)</source>
        <translation>Raster (image géoréférencée)</translation>
    </message>
    <message>
        <location filename="../../work/main/deal_qgis/processing/scene_parameters.py" line="82"/>
        <source>The image to search: a raster file with a CRS (GeoTIFF, JPEG2000, VRT...). Any size: it is read tile by tile.</source>
        <translation>L'image où chercher : un fichier raster avec un SCR (GeoTIFF, JPEG2000, VRT…). Toute taille : il est lu tuile par tuile.</translation>
    </message>
    <message>
        <location filename="../../work/main/deal_qgis/processing/scene_parameters.py" line="87"/>
        <source>Bands read as red, green, blue</source>
        <translation>Bandes lues comme rouge, vert, bleu</translation>
    </message>
    <message>
        <location filename="../../work/main/deal_qgis/processing/scene_parameters.py" line="95"/>
        <source>Tile size (pixels)</source>
        <translation>Taille des tuiles (pixels)</translation>
    </message>
    <message>
        <location filename="../../work/main/deal_qgis/processing/scene_parameters.py" line="100"/>
        <source>Tile overlap (pixels)</source>
        <translation>Recouvrement des tuiles (pixels)</translation>
    </message>
    <message>
        <location filename="../../work/main/deal_qgis/processing/scene_parameters.py" line="105"/>
        <source>Compute device</source>
        <translation>Processeur de calcul</translation>
    </message>
    <message>
        <location filename="../../work/main/deal_qgis/processing/scene_parameters.py" line="105"/>
        <source>auto: the GPU (CUDA) when onnxruntime can use one, else the CPU. cuda fails with a clear message when no GPU is available.</source>
        <translation>auto : le GPU (CUDA) quand onnxruntime peut en utiliser un, sinon le CPU. cuda échoue avec un message clair si aucun GPU n'est disponible.</translation>
    </message>
    <message>
        <location filename="../../work/main/deal_qgis/settings_panel.py" line="66"/>
        <source>Model folder</source>
        <translation>Dossier du modèle</translation>
    </message>
    <message>
        <location filename="../../work/main/deal_qgis/processing/scene_parameters.py" line="111"/>
        <source>Folder holding the DEAL model (encoder.onnx and prompt_head.onnx). Default: the model that ships with the plugin.</source>
        <translation>Dossier contenant le modèle DEAL (encoder.onnx et prompt_head.onnx). Par défaut : le modèle fourni avec l'extension.</translation>
    </message>
    <message>
        <location filename="../../work/main/deal_qgis/processing/scene_parameters.py" line="130"/>
        <source>The raster layer cannot be loaded. Check that the file exists.</source>
        <translation>La couche raster ne peut pas être chargée. Vérifiez que le fichier existe.</translation>
    </message>
    <message>
        <location filename="../../work/main/deal_qgis/processing/scene_parameters.py" line="132"/>
        <source>The raster &apos;{}&apos; has no CRS, so the prompt points cannot be placed on it and sizes in metres are unknown. Assign its CRS first (Layer Properties &gt; Source, or Raster &gt; Projections &gt; Assign Projection).</source>
        <translation>Le raster « {} » n'a pas de SCR : les points d'exemple ne peuvent pas y être placés et les tailles en mètres sont inconnues. Attribuez-lui d'abord son SCR (Propriétés de la couche &gt; Source, ou Raster &gt; Projections &gt; Assigner une projection).</translation>
    </message>
    <message>
        <location filename="../../work/main/deal_qgis/processing/scene_parameters.py" line="143"/>
        <source>The feature cache folder {} cannot be created ({}). Choose a folder you can write to.</source>
        <translation>Le dossier de cache des caractéristiques {} ne peut pas être créé ({}). Choisissez un dossier accessible en écriture.</translation>
    </message>
    <message>
        <location filename="../../work/main/deal_qgis/result_layers.py" line="100"/>
        <source>Objects detected by DEAL per category: {0}</source>
        <translation>Objets détectés par DEAL par catégorie : {0}</translation>
    </message>
    <message>
        <location filename="../../work/main/deal_qgis/result_layers.py" line="119"/>
        <source>all categories</source>
        <translation>toutes catégories</translation>
    </message>
    <message>
        <location filename="../../work/main/deal_qgis/result_layers.py" line="127"/>
        <source>Cannot create &apos;{0}&apos;: {1}</source>
        <translation>Impossible de créer « {0} » : {1}</translation>
    </message>
    <message>
        <location filename="../../work/main/deal_qgis/vector_export.py" line="39"/>
        <source>Writing &apos;{0}&apos; failed: {1}</source>
        <translation>L'écriture de « {0} » a échoué : {1}</translation>
    </message>
    <message>
        <location filename="../../work/main/deal_qgis/result_layers.py" line="168"/>
        <source>The density raster &apos;{0}&apos; cannot be opened.</source>
        <translation>Le raster de densité « {0} » ne peut pas être ouvert.</translation>
    </message>
    <message>
        <location filename="../../work/main/deal_qgis/settings_panel.py" line="29"/>
        <source>Settings</source>
        <translation>Paramètres</translation>
    </message>
    <message>
        <location filename="../../work/main/deal_qgis/settings_panel.py" line="33"/>
        <source>bundled model</source>
        <translation>modèle fourni</translation>
    </message>
    <message>
        <location filename="../../work/main/deal_qgis/settings_panel.py" line="34"/>
        <source>Folder holding encoder.onnx and prompt_head.onnx; empty = the model shipped with DEAL.</source>
        <translation>Dossier contenant encoder.onnx et prompt_head.onnx ; vide = le modèle fourni avec DEAL.</translation>
    </message>
    <message>
        <location filename="../../work/main/deal_qgis/settings_panel.py" line="47"/>
        <source>model default</source>
        <translation>valeur du modèle</translation>
    </message>
    <message>
        <location filename="../../work/main/deal_qgis/settings_panel.py" line="49"/>
        <source>automatic (GPU if available)</source>
        <translation>automatique (GPU si disponible)</translation>
    </message>
    <message>
        <location filename="../../work/main/deal_qgis/settings_panel.py" line="49"/>
        <source>CPU</source>
        <translation>CPU</translation>
    </message>
    <message>
        <location filename="../../work/main/deal_qgis/settings_panel.py" line="49"/>
        <source>GPU (CUDA)</source>
        <translation>GPU (CUDA)</translation>
    </message>
    <message>
        <location filename="../../work/main/deal_qgis/settings_panel.py" line="54"/>
        <source>temporary layers</source>
        <translation>couches temporaires</translation>
    </message>
    <message>
        <location filename="../../work/main/deal_qgis/settings_panel.py" line="55"/>
        <source>Folder where detections (GeoPackage) and density (GeoTIFF) are saved; empty = temporary layers.</source>
        <translation>Dossier où sont enregistrées les détections (GeoPackage) et la densité (GeoTIFF) ; vide = couches temporaires.</translation>
    </message>
    <message>
        <location filename="../../work/main/deal_qgis/settings_panel.py" line="67"/>
        <source>Tile size (px)</source>
        <translation>Taille des tuiles (px)</translation>
    </message>
    <message>
        <location filename="../../work/main/deal_qgis/settings_panel.py" line="68"/>
        <source>Tile overlap (px)</source>
        <translation>Recouvrement des tuiles (px)</translation>
    </message>
    <message>
        <location filename="../../work/main/deal_qgis/settings_panel.py" line="70"/>
        <source>Device</source>
        <translation>Processeur de calcul</translation>
    </message>
    <message>
        <location filename="../../work/main/deal_qgis/settings_panel.py" line="71"/>
        <source>Output folder</source>
        <translation>Dossier de sortie</translation>
    </message>
    <message>
        <location filename="../../work/main/deal_qgis/vector_export.py" line="27"/>
        <source>Cannot export to &apos;{0}&apos;: use a name ending in .gpkg, .shp or .geojson.</source>
        <translation>Impossible d'exporter vers « {0} » : utilisez un nom se terminant par .gpkg, .shp ou .geojson.</translation>
    </message>
    <message>
        <location filename="../../work/main/deal_qgis/detection_task.py" line="80"/>
        <source>The tile settings do not suit the model: {0}. Change them in the DEAL settings (0 = the model&apos;s own).</source>
        <translation>Les réglages de tuiles ne conviennent pas au modèle : {0}. Modifiez-les dans les paramètres DEAL (0 = ceux du modèle).</translation>
    </message>
    <message>
        <location filename="../../work/main/deal_qgis/processing/scene_parameters.py" line="95"/>
        <source>Side of the square tiles the model sees, in model pixels: a multiple of 32, at least 192. Not set: the model&apos;s own tile size.</source>
        <translation>Côté des tuiles carrées vues par le modèle, en pixels du modèle : un multiple de 32, au moins 192. Non défini : la taille de tuile du modèle.</translation>
    </message>
    <message>
        <location filename="../../work/main/deal_qgis/processing/scene_parameters.py" line="100"/>
        <source>How far neighbouring tiles overlap, in model pixels, so objects on a tile edge are seen whole. Less than half the tile size. Not set: the model&apos;s own overlap.</source>
        <translation>Recouvrement entre tuiles voisines, en pixels du modèle, pour que les objets en bord de tuile soient vus en entier. Moins de la moitié de la taille des tuiles. Non défini : le recouvrement du modèle.</translation>
    </message>
    <message>
        <location filename="../../work/main/deal_qgis/processing/session_pool.py" line="78"/>
        <source>The tiling cannot be used: {}. Change the tile size or overlap, or leave them unset to use the model&apos;s own.</source>
        <translation>Ce tuilage est inutilisable : {}. Modifiez la taille des tuiles ou le recouvrement, ou laissez-les vides pour utiliser ceux du modèle.</translation>
    </message>
    <message>
        <location filename="../../work/main/deal_qgis/processing/detect_algorithm.py" line="85"/>
        <source>Click one object of each kind (one point per object, with its category in an attribute) and DEAL finds all objects of those kinds across the whole raster.
Outputs: the objects as rectangles in the raster&apos;s CRS with their category, score and size in metres; a table of counts per category; and a density raster (one band per category).
The raster is encoded tile by tile once; later runs on the same raster with other points reuse that encoding (in this QGIS session, or across sessions with a feature cache folder).</source>
        <translation>Cliquez sur un objet de chaque type (un point par objet, avec sa catégorie dans un attribut) et DEAL trouve tous les objets de ces types dans tout le raster.
Sorties : les objets sous forme de rectangles dans le SCR du raster avec leur catégorie, leur score et leur taille en mètres ; une table des nombres par catégorie ; et un raster de densité (une bande par catégorie).
Le raster est encodé une seule fois, tuile par tuile ; les exécutions suivantes sur le même raster avec d'autres points réutilisent cet encodage (dans cette session QGIS, ou entre sessions avec un dossier de cache des caractéristiques).</translation>
    </message>
    <message>
        <location filename="../../work/main/deal_qgis/processing/detect_algorithm.py" line="98"/>
        <source>One point per kind is enough; more points of a kind make it more reliable.</source>
        <translation>Un point par type suffit ; plusieurs points d'un même type rendent la détection plus fiable.</translation>
    </message>
    <message>
        <location filename="../../work/main/deal_qgis/processing/detect_algorithm.py" line="137"/>
        <source>Tile reads answered from encoded tiles</source>
        <translation>Lectures de tuiles servies par des tuiles déjà encodées</translation>
    </message>
    <message>
        <location filename="../../work/main/deal_qgis/processing/detect_algorithm.py" line="168"/>
        <source>Tiles encoded: {}; tile reads answered from encoded tiles: {}.</source>
        <translation>Tuiles encodées : {} ; lectures servies par des tuiles déjà encodées : {}.</translation>
    </message>
    <message>
        <location filename="../../work/main/deal_qgis/processing/encode_algorithm.py" line="48"/>
        <source>Runs the expensive part of detection, encoding the raster tile by tile, without writing any result. Give a feature cache folder to keep the encoding on disk: &apos;Detect small objects from point prompts&apos; with the same raster, model, tiling and folder then skips it, also in later QGIS sessions and with qgis_process. Without a folder it is kept in memory until QGIS closes.
Detection looks at each kind of object at the resolution that brings it to the model&apos;s working size. Give a few example points to encode at the resolution of their kinds; without points the raster is encoded at its own resolution.</source>
        <translation>Exécute la partie coûteuse de la détection, l'encodage du raster tuile par tuile, sans écrire de résultat. Indiquez un dossier de cache des caractéristiques pour conserver l'encodage sur disque : « Détecter de petits objets à partir de points » avec le même raster, modèle, tuilage et dossier le saute alors, y compris dans les sessions QGIS suivantes et avec qgis_process. Sans dossier, il reste en mémoire jusqu'à la fermeture de QGIS.
La détection examine chaque type d'objet à la résolution qui l'amène à la taille de travail du modèle. Donnez quelques points d'exemple pour encoder à la résolution de leurs types ; sans points, le raster est encodé à sa propre résolution.</translation>
    </message>
    <message>
        <location filename="../../work/main/deal_qgis/processing/encode_algorithm.py" line="62"/>
        <source>Optional: one or a few points per kind of object you will detect later. Not set: the raster is encoded at its own resolution.</source>
        <translation>Facultatif : un ou quelques points par type d'objet que vous détecterez ensuite. Non défini : le raster est encodé à sa propre résolution.</translation>
    </message>
    <message>
        <location filename="../../work/main/deal_qgis/processing/encode_algorithm.py" line="67"/>
        <source>Tiles found already encoded</source>
        <translation>Tuiles trouvées déjà encodées</translation>
    </message>
    <message>
        <location filename="../../work/main/deal_qgis/processing/encode_algorithm.py" line="82"/>
        <source>Encoding at {:.3g} model pixels per raster pixel</source>
        <translation>Encodage à {:.3g} pixels du modèle par pixel du raster</translation>
    </message>
    <message>
        <location filename="../../work/main/deal_qgis/processing/encode_algorithm.py" line="87"/>
        <source>Tiles encoded: {}; found already encoded: {}.</source>
        <translation>Tuiles encodées : {} ; trouvées déjà encodées : {}.</translation>
    </message>
    <message>
        <location filename="../../work/main/deal_qgis/processing/help_text.py" line="18"/>
        <source>Parameters:</source>
        <translation>Paramètres :</translation>
    </message>
    <message>
        <location filename="../../work/main/deal_qgis/processing/prompt_points.py" line="49"/>
        <source>Points, each on one example object, in any CRS (they are reprojected to the raster&apos;s). {}</source>
        <translation>Points, chacun sur un objet exemple, dans n'importe quel SCR (ils sont reprojetés dans celui du raster). {}</translation>
    </message>
    <message>
        <location filename="../../work/main/deal_qgis/processing/provider.py" line="25"/>
        <source>DEAL — detect any small object from point prompts</source>
        <translation>DEAL — détection de petits objets à partir de points</translation>
    </message>
    <message>
        <location filename="../../work/main/deal_qgis/processing/scene_parameters.py" line="87"/>
        <source>Three band numbers in red, green, blue order, e.g. 1,2,3 or 3,2,1; or one band number for a grey image. Not set: the bands marked red, green and blue, else the first three.</source>
        <translation>Trois numéros de bande dans l'ordre rouge, vert, bleu, par ex. 1,2,3 ou 3,2,1 ; ou un seul numéro de bande pour une image en niveaux de gris. Non défini : les bandes marquées rouge, vert et bleu, sinon les trois premières.</translation>
    </message>
    <message>
        <location filename="../../work/main/deal_qgis/processing/scene_parameters.py" line="116"/>
        <source>Folder where the encoded raster is kept. Later runs on the same raster with the same model and tiling reuse it instead of encoding again (see &apos;Encode raster for fast detection&apos;). Not set: encodings are kept in memory for this QGIS session only.</source>
        <translation>Dossier où le raster encodé est conservé. Les exécutions suivantes sur le même raster avec le même modèle et le même tuilage le réutilisent au lieu d'encoder à nouveau (voir « Encoder le raster pour une détection rapide »). Non défini : les encodages restent en mémoire pour cette session QGIS uniquement.</translation>
    </message>
    <message>
        <location filename="../../work/main/deal_qgis/processing/scene_parameters.py" line="158"/>
        <source>Bands &apos;{}&apos; cannot be used: give three band numbers for red, green and blue (e.g. 1,2,3 or 3,2,1) or one band number for a grey image.</source>
        <translation>Les bandes « {} » sont inutilisables : donnez trois numéros de bande pour le rouge, le vert et le bleu (par ex. 1,2,3 ou 3,2,1) ou un seul numéro pour une image en niveaux de gris.</translation>
    </message>
    <message>
        <location filename="../../work/main/deal_qgis/stage_text.py" line="12"/>
        <source>encoding tile {0}/{1}</source>
        <translation>encodage de la tuile {0}/{1}</translation>
    </message>
    <message>
        <location filename="../../work/main/deal_qgis/stage_text.py" line="13"/>
        <source>detecting tile {0}/{1}</source>
        <translation>détection sur la tuile {0}/{1}</translation>
    </message>
    <message>
        <location filename="../../work/main/deal_qgis/stage_text.py" line="14"/>
        <source>reading the &apos;{0}&apos; clicks</source>
        <translation>lecture des clics « {0} »</translation>
    </message>
    <message>
        <location filename="../../work/main/deal_qgis/stage_text.py" line="15"/>
        <source>encoded</source>
        <translation>encodé</translation>
    </message>
    <message>
        <location filename="../../work/main/deal_qgis/stage_text.py" line="16"/>
        <source>merging</source>
        <translation>fusion</translation>
    </message>
    <message>
        <location filename="../../work/main/deal_qgis/stage_text.py" line="17"/>
        <source>done</source>
        <translation>terminé</translation>
    </message>
    <message>
        <location filename="../../work/main/deal_qgis/processing/session_pool.py" line="44"/>
        <source>DEAL needs the Python package(s) {0}, which this QGIS cannot import. Install them from the DEAL panel (Plugins &gt; DEAL), or run: {1}</source>
        <translation>DEAL a besoin du ou des paquets Python {0}, que ce QGIS ne peut pas importer. Installez-les depuis le panneau DEAL (Extensions &gt; DEAL) ou exécutez : {1}</translation>
    </message>
    <message>
        <location filename="../../work/main/deal_qgis/settings.py" line="16"/>
        <source>Also one step finer and coarser (slower)</source>
        <translation>Aussi un cran plus fin et plus grossier (plus lent)</translation>
    </message>
    <message>
        <location filename="../../work/main/deal_qgis/settings.py" line="16"/>
        <source>Scale bracketing: each category is also detected at a scale one step below and above the one its clicks chose, and the results merged. About a point more accuracy for every kind of object, at about 3.5 times the encoding time.</source>
        <translation>Encadrement d'échelle : chaque catégorie est aussi détectée à une échelle un cran en dessous et au-dessus de celle choisie par ses clics, et les résultats fusionnés. Environ un point de précision en plus pour chaque type d'objet, pour environ 3,5 fois le temps d'encodage.</translation>
    </message>
    <message>
        <location filename="../../work/main/deal_qgis/settings_panel.py" line="72"/>
        <source>Scale</source>
        <translation>Échelle</translation>
    </message>
    <message>
        <location filename="../../work/main/deal_qgis/processing/detect_algorithm.py" line="165"/>
        <source>Self-prompting: surest detections added to the clicks: {}.</source>
        <translation>Auto-exemples : détections les plus sûres ajoutées aux clics : {}.</translation>
    </message>
    <message>
        <location filename="../../work/main/deal_qgis/settings.py" line="24"/>
        <source>Refine with the surest detections (slower)</source>
        <translation>Affiner avec les détections les plus sûres (plus lent)</translation>
    </message>
    <message>
        <location filename="../../work/main/deal_qgis/settings_panel.py" line="73"/>
        <source>Examples</source>
        <translation>Exemples</translation>
    </message>
    <message>
        <location filename="../../work/main/deal_qgis/settings.py" line="24"/>
        <source>Self-prompting: after a first pass, the objects the model is surest of are added to your clicks and the scene is searched again, at the scale they suggest (the raster is encoded again only if that scale differs). Helps when the clicked object is not typical of its kind: about a point more accuracy on the validation images, for a second search.</source>
        <translation>Auto-exemples : après une première passe, les objets dont le modèle est le plus sûr sont ajoutés à vos clics et la scène est parcourue de nouveau, à l'échelle qu'ils indiquent (le raster n'est encodé de nouveau que si cette échelle diffère). Utile quand l'objet cliqué n'est pas typique de sa catégorie : environ un point de précision en plus sur les images de validation, pour une seconde recherche.</translation>
    </message>
    <message>
        <location filename="../../work/main/deal_qgis/settings.py" line="33"/>
        <source>Also search the scene rotated and mirrored (slower)</source>
        <translation>Chercher aussi dans la scène tournée et en miroir (plus lent)</translation>
    </message>
    <message>
        <location filename="../../work/main/deal_qgis/settings.py" line="33"/>
        <source>Test-time views: the scene is also searched mirrored left-right, top-bottom and both, and transposed each of those ways, and each object&apos;s boxes from the eight searches are averaged. Tighter boxes and fewer false detections (several points more accuracy on the validation images), at eight times the encoding time.</source>
        <translation>Vues au moment de la détection : la scène est aussi parcourue en miroir gauche-droite, haut-bas et les deux, et transposée de chacune de ces façons, et les rectangles de chaque objet issus des huit recherches sont moyennés. Des rectangles plus ajustés et moins de fausses détections (plusieurs points de précision en plus sur les images de validation), pour huit fois le temps d'encodage.</translation>
    </message>
    <message>
        <location filename="../../work/main/deal_qgis/settings_panel.py" line="74"/>
        <source>Views</source>
        <translation>Vues</translation>
    </message>
</context>
</TS>
