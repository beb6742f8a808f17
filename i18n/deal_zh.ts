<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="zh_CN">
<context>
    <name>DEAL</name>
    <message>
        <location filename="../../work/main/deal_qgis/clicks.py" line="53"/>
        <source>Add click</source>
        <translation>添加点击</translation>
    </message>
    <message>
        <location filename="../../work/main/deal_qgis/clicks.py" line="67"/>
        <source>Remove click</source>
        <translation>删除点击</translation>
    </message>
    <message>
        <location filename="../../work/main/deal_qgis/clicks.py" line="82"/>
        <source>Clear clicks</source>
        <translation>清除点击</translation>
    </message>
    <message>
        <location filename="../../work/main/deal_qgis/dependency_panel.py" line="16"/>
        <source>Installing {0} for DEAL</source>
        <translation>正在为 DEAL 安装 {0}</translation>
    </message>
    <message>
        <location filename="../../work/main/deal_qgis/dependency_panel.py" line="58"/>
        <source>DEAL needs the Python package(s) {0}, which this QGIS cannot import. Detection is disabled until they are installed into {1}.</source>
        <translation>DEAL 需要 Python 包 {0}，但此 QGIS 无法导入。在将其安装到 {1} 之前，检测功能不可用。</translation>
    </message>
    <message>
        <location filename="../../work/main/deal_qgis/dependency_panel.py" line="60"/>
        <source>Install {0}</source>
        <translation>安装 {0}</translation>
    </message>
    <message>
        <location filename="../../work/main/deal_qgis/dependency_panel.py" line="66"/>
        <source>Installing {0} with pip... QGIS stays usable meanwhile.</source>
        <translation>正在用 pip 安装 {0}……期间 QGIS 仍可正常使用。</translation>
    </message>
    <message>
        <location filename="../../work/main/deal_qgis/dependency_panel.py" line="78"/>
        <source>Packages installed: DEAL is ready.</source>
        <translation>包已安装：DEAL 已就绪。</translation>
    </message>
    <message>
        <location filename="../../work/main/deal_qgis/dependency_panel.py" line="81"/>
        <source>Installing {0} failed; pip&apos;s output is in the Log Messages panel, DEAL tab. A restart of QGIS may be needed.</source>
        <translation>安装 {0} 失败；pip 的输出见“日志消息”面板的 DEAL 标签页。可能需要重启 QGIS。</translation>
    </message>
    <message>
        <location filename="../../work/main/deal_qgis/detection_task.py" line="54"/>
        <source>DEAL detection</source>
        <translation>DEAL 检测</translation>
    </message>
    <message>
        <location filename="../../work/main/deal_qgis/detection_task.py" line="74"/>
        <source>loading model</source>
        <translation>正在加载模型</translation>
    </message>
    <message>
        <location filename="../../work/main/deal_qgis/detection_task.py" line="98"/>
        <source>writing density raster</source>
        <translation>正在写入密度栅格</translation>
    </message>
    <message>
        <location filename="../../work/main/deal_qgis/detection_task.py" line="101"/>
        <source>Run cancelled.</source>
        <translation>运行已取消。</translation>
    </message>
    <message>
        <location filename="../../work/main/deal_qgis/plugin.py" line="84"/>
        <source>DEAL - Detect Any smalL object</source>
        <translation>DEAL - 任意小目标检测</translation>
    </message>
    <message>
        <location filename="../../work/main/deal_qgis/dock.py" line="116"/>
        <source>Raster</source>
        <translation>栅格</translation>
    </message>
    <message>
        <location filename="../../work/main/deal_qgis/dock.py" line="120"/>
        <source>Pick a preset or type a new category name, then click one object of that kind on the map.</source>
        <translation>选择预设类别或输入新的类别名称，然后在地图上点击一个该类目标。</translation>
    </message>
    <message>
        <location filename="../../work/main/deal_qgis/dock.py" line="165"/>
        <source>Category</source>
        <translation>类别</translation>
    </message>
    <message>
        <location filename="../../work/main/deal_qgis/dock.py" line="126"/>
        <source>Click objects on the map</source>
        <translation>在地图上点击目标</translation>
    </message>
    <message>
        <location filename="../../work/main/deal_qgis/dock.py" line="128"/>
        <source>Click one object (or a few) of the chosen category; Ctrl+Z undoes the last click.</source>
        <translation>点击所选类别的一个（或几个）目标；Ctrl+Z 撤销上一次点击。</translation>
    </message>
    <message>
        <location filename="../../work/main/deal_qgis/dock.py" line="136"/>
        <source>Remove</source>
        <translation>删除</translation>
    </message>
    <message>
        <location filename="../../work/main/deal_qgis/dock.py" line="138"/>
        <source>Undo</source>
        <translation>撤销</translation>
    </message>
    <message>
        <location filename="../../work/main/deal_qgis/dock.py" line="140"/>
        <source>Clear</source>
        <translation>清除</translation>
    </message>
    <message>
        <location filename="../../work/main/deal_qgis/dock.py" line="148"/>
        <source>Detect</source>
        <translation>检测</translation>
    </message>
    <message>
        <location filename="../../work/main/deal_qgis/dock.py" line="150"/>
        <source>Cancel</source>
        <translation>取消</translation>
    </message>
    <message>
        <location filename="../../work/main/deal_qgis/dock.py" line="165"/>
        <source>Count</source>
        <translation>数量</translation>
    </message>
    <message>
        <location filename="../../work/main/deal_qgis/dock.py" line="171"/>
        <source>Export detections...</source>
        <translation>导出检测结果……</translation>
    </message>
    <message>
        <location filename="../../work/main/deal_qgis/dock.py" line="206"/>
        <source>Choose a raster layer in the DEAL panel first (open one with Layer &gt; Add Layer).</source>
        <translation>请先在 DEAL 面板中选择栅格图层（可通过 图层 &gt; 添加图层 打开）。</translation>
    </message>
    <message>
        <location filename="../../work/main/deal_qgis/dock.py" line="228"/>
        <source>Type or pick a category before clicking (e.g. vehicle).</source>
        <translation>点击前请输入或选择类别（例如 vehicle）。</translation>
    </message>
    <message>
        <location filename="../../work/main/deal_qgis/dock.py" line="232"/>
        <source>The click is outside the raster &apos;{0}&apos;; click on the image.</source>
        <translation>点击位置在栅格“{0}”之外；请在影像上点击。</translation>
    </message>
    <message>
        <location filename="../../work/main/deal_qgis/dock.py" line="277"/>
        <source>A detection is already running; wait for it or cancel it.</source>
        <translation>已有检测正在运行；请等待其完成或取消。</translation>
    </message>
    <message>
        <location filename="../../work/main/deal_qgis/dock.py" line="279"/>
        <source>Install the missing Python packages first (see the top of the DEAL panel).</source>
        <translation>请先安装缺少的 Python 包（见 DEAL 面板顶部）。</translation>
    </message>
    <message>
        <location filename="../../work/main/deal_qgis/dock.py" line="282"/>
        <source>Click at least one object on the map before running.</source>
        <translation>运行前请至少在地图上点击一个目标。</translation>
    </message>
    <message>
        <location filename="../../work/main/deal_qgis/dock.py" line="294"/>
        <source>starting</source>
        <translation>正在启动</translation>
    </message>
    <message>
        <location filename="../../work/main/deal_qgis/dock.py" line="302"/>
        <source>cancelling...</source>
        <translation>正在取消……</translation>
    </message>
    <message>
        <location filename="../../work/main/deal_qgis/dock.py" line="317"/>
        <source>failed</source>
        <translation>失败</translation>
    </message>
    <message>
        <location filename="../../work/main/deal_qgis/dock.py" line="320"/>
        <source>cancelled: nothing was added</source>
        <translation>已取消：未添加任何内容</translation>
    </message>
    <message>
        <location filename="../../work/main/deal_qgis/dock.py" line="327"/>
        <source>DEAL detections - {0}</source>
        <translation>DEAL 检测结果 - {0}</translation>
    </message>
    <message>
        <location filename="../../work/main/deal_qgis/dock.py" line="337"/>
        <source>DEAL density - {0}</source>
        <translation>DEAL 密度 - {0}</translation>
    </message>
    <message>
        <location filename="../../work/main/deal_qgis/dock.py" line="343"/>
        <source>done in {0:.1f} s</source>
        <translation>完成，用时 {0:.1f} 秒</translation>
    </message>
    <message>
        <location filename="../../work/main/deal_qgis/dock.py" line="71"/>
        <source>Scene encoded ({0} tiles, {1:.1f} s) — reused</source>
        <translation>场景已编码（{0} 个瓦片，{1:.1f} 秒）— 已复用</translation>
    </message>
    <message>
        <location filename="../../work/main/deal_qgis/dock.py" line="72"/>
        <source>Scene encoded ({0} tiles, {1:.1f} s)</source>
        <translation>场景已编码（{0} 个瓦片，{1:.1f} 秒）</translation>
    </message>
    <message>
        <location filename="../../work/main/deal_qgis/dock.py" line="347"/>
        <source>{0} objects found: {1}</source>
        <translation>找到 {0} 个目标：{1}</translation>
    </message>
    <message>
        <location filename="../../work/main/deal_qgis/dock.py" line="362"/>
        <source>Run a detection first: there is no detection layer to export.</source>
        <translation>请先运行检测：没有可导出的检测图层。</translation>
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
        <translation>GeoJSON，WGS 84 (*.geojson)</translation>
    </message>
    <message>
        <location filename="../../work/main/deal_qgis/dock.py" line="364"/>
        <source>Export detections</source>
        <translation>导出检测结果</translation>
    </message>
    <message>
        <location filename="../../work/main/deal_qgis/dock.py" line="370"/>
        <source>Detections written to {0}</source>
        <translation>检测结果已写入 {0}</translation>
    </message>
    <message>
        <location filename="../../work/main/deal_qgis/error_reporting.py" line="30"/>
        <source>Unexpected error: {0}. Details are in the Log Messages panel, DEAL tab.</source>
        <translation>意外错误：{0}。详情见“日志消息”面板的 DEAL 标签页。</translation>
    </message>
    <message>
        <location filename="../../work/main/deal_qgis/layer_source.py" line="35"/>
        <source>The layer &apos;{0}&apos; is not valid: its file cannot be read. Check that the file still exists.</source>
        <translation>图层“{0}”无效：无法读取其文件。请检查文件是否仍然存在。</translation>
    </message>
    <message>
        <location filename="../../work/main/deal_qgis/layer_source.py" line="37"/>
        <source>The layer &apos;{0}&apos; is a web or database layer; DEAL reads raster files. Save it as a GeoTIFF (right-click &gt; Export &gt; Save As) and use that layer.</source>
        <translation>图层“{0}”是网络或数据库图层；DEAL 读取栅格文件。请将其另存为 GeoTIFF（右键 &gt; 导出 &gt; 另存为）并使用该图层。</translation>
    </message>
    <message>
        <location filename="../../work/main/deal_qgis/layer_source.py" line="46"/>
        <source>GDAL cannot open &apos;{0}&apos;: {1}. Check that the file exists and is not truncated.</source>
        <translation>GDAL 无法打开“{0}”：{1}。请检查文件是否存在且未被截断。</translation>
    </message>
    <message>
        <location filename="../../work/main/deal_qgis/layer_source.py" line="86"/>
        <source>The raster has no colour band (only alpha).</source>
        <translation>该栅格没有颜色波段（只有 alpha）。</translation>
    </message>
    <message>
        <location filename="../../work/main/deal_qgis/layer_source.py" line="103"/>
        <source>The raster &apos;{0}&apos; is empty (0 pixels).</source>
        <translation>栅格“{0}”为空（0 像素）。</translation>
    </message>
    <message>
        <location filename="../../work/main/deal_qgis/layer_source.py" line="107"/>
        <source>Band {0} does not exist: the raster has {1} bands.</source>
        <translation>波段 {0} 不存在：该栅格有 {1} 个波段。</translation>
    </message>
    <message>
        <location filename="../../work/main/deal_qgis/layer_source.py" line="132"/>
        <source>Band {0} of &apos;{1}&apos; holds only nodata.</source>
        <translation>“{1}”的波段 {0} 只包含无数据值。</translation>
    </message>
    <message>
        <location filename="../../work/main/deal_qgis/layer_source.py" line="177"/>
        <source>Reading &apos;{0}&apos; failed: {1}. The file may be truncated.</source>
        <translation>读取“{0}”失败：{1}。文件可能已被截断。</translation>
    </message>
    <message>
        <location filename="../../work/main/deal_qgis/plugin.py" line="46"/>
        <source>The DEAL Processing tools could not be loaded:
{0}</source>
        <translation>无法加载 DEAL 处理工具：
{0}</translation>
    </message>
    <message>
        <location filename="../../work/main/deal_qgis/plugin.py" line="54"/>
        <source>Open the DEAL panel: click one object, find all objects of that kind</source>
        <translation>打开 DEAL 面板：点击一个目标，找到所有同类目标</translation>
    </message>
    <message>
        <location filename="../../work/main/deal_qgis/processing/detect_algorithm.py" line="73"/>
        <source>Detect small objects from point prompts</source>
        <translation>根据提示点检测小目标</translation>
    </message>
    <message>
        <location filename="../../work/main/deal_qgis/processing/detect_algorithm.py" line="76"/>
        <source>Finds every object like the clicked ones (cars, ships, aircraft...) in a raster.</source>
        <translation>在栅格中找到所有与点击目标相似的目标（汽车、船舶、飞机……）。</translation>
    </message>
    <message>
        <location filename="../../work/main/deal_qgis/processing/prompt_points.py" line="47"/>
        <source>Prompt points</source>
        <translation>提示点</translation>
    </message>
    <message>
        <location filename="../../work/main/deal_qgis/processing/prompt_points.py" line="52"/>
        <source>Category field</source>
        <translation>类别字段</translation>
    </message>
    <message>
        <location filename="../../work/main/deal_qgis/processing/prompt_points.py" line="54"/>
        <source>Attribute of the prompt points holding each point&apos;s category, e.g. &apos;vehicle&apos; or &apos;ship&apos;. Points with the same category form one kind of object.</source>
        <translation>提示点中保存每个点类别的属性，例如“vehicle”或“ship”。类别相同的点构成一类目标。</translation>
    </message>
    <message>
        <location filename="../../work/main/deal_qgis/settings_panel.py" line="69"/>
        <source>Score threshold</source>
        <translation>得分阈值</translation>
    </message>
    <message>
        <location filename="../../work/main/deal_qgis/processing/detect_algorithm.py" line="103"/>
        <source>Detections scoring below this (0 to 1) are dropped: raise it for fewer false alarms, lower it to miss fewer objects. Not set: the model&apos;s own threshold.</source>
        <translation>得分低于此值（0 到 1）的检测将被丢弃：调高可减少误报，调低可减少漏检。未设置：使用模型自身的阈值。</translation>
    </message>
    <message>
        <location filename="../../work/main/deal_qgis/processing/detect_algorithm.py" line="120"/>
        <source>Detected objects</source>
        <translation>检测到的目标</translation>
    </message>
    <message>
        <location filename="../../work/main/deal_qgis/processing/detect_algorithm.py" line="122"/>
        <source>One rectangle per object in the raster&apos;s CRS, with category, score (0 to 1), length_m, width_m and area_m2.</source>
        <translation>每个目标一个矩形，使用栅格坐标系，附带 category、score（0 到 1）、length_m、width_m 和 area_m2。</translation>
    </message>
    <message>
        <location filename="../../work/main/deal_qgis/processing/detect_algorithm.py" line="125"/>
        <source>Density map</source>
        <translation>密度图</translation>
    </message>
    <message>
        <location filename="../../work/main/deal_qgis/processing/detect_algorithm.py" line="127"/>
        <source>GeoTIFF of object density on a coarse grid: with several categories band 1 is their sum, then one band per category.</source>
        <translation>粗网格上的目标密度 GeoTIFF：有多个类别时，波段 1 为其总和，之后每个类别一个波段。</translation>
    </message>
    <message>
        <location filename="../../work/main/deal_qgis/processing/detect_algorithm.py" line="130"/>
        <source>Counts per category</source>
        <translation>按类别计数</translation>
    </message>
    <message>
        <location filename="../../work/main/deal_qgis/processing/detect_algorithm.py" line="132"/>
        <source>A table (no geometry): category, count (objects detected) and estimated_count (the density map&apos;s total, an estimate independent of the threshold).</source>
        <translation>一张表（无几何）：category、count（检测到的目标数）和 estimated_count（密度图总和，一个与阈值无关的估计）。</translation>
    </message>
    <message>
        <location filename="../../work/main/deal_qgis/processing/detect_algorithm.py" line="135"/>
        <source>Objects detected</source>
        <translation>检测到的目标数</translation>
    </message>
    <message>
        <location filename="../../work/main/deal_qgis/processing/encode_algorithm.py" line="66"/>
        <source>Tiles encoded in this run</source>
        <translation>本次运行编码的瓦片数</translation>
    </message>
    <message>
        <location filename="../../work/main/deal_qgis/processing/prompt_points.py" line="70"/>
        <source>Choose the category field: the attribute of the prompt points that holds each point&apos;s category (e.g. &apos;vehicle&apos;).</source>
        <translation>请选择类别字段：提示点中保存每个点类别的属性（例如“vehicle”）。</translation>
    </message>
    <message>
        <location filename="../../work/main/deal_qgis/processing/detect_algorithm.py" line="148"/>
        <source>{} prompt point(s); categories: {}.</source>
        <translation>{} 个提示点；类别：{}。</translation>
    </message>
    <message>
        <location filename="../../work/main/deal_qgis/processing/detect_algorithm.py" line="153"/>
        <source>Reusing the encoded raster of an earlier run.</source>
        <translation>正在复用先前运行中已编码的栅格。</translation>
    </message>
    <message>
        <location filename="../../work/main/deal_qgis/processing/detect_algorithm.py" line="169"/>
        <source>Objects detected: {}.</source>
        <translation>检测到的目标：{}。</translation>
    </message>
    <message>
        <location filename="../../work/main/deal_qgis/processing/detect_algorithm.py" line="182"/>
        <source>Writing outputs</source>
        <translation>正在写入输出</translation>
    </message>
    <message>
        <location filename="../../work/main/deal_qgis/processing/encode_algorithm.py" line="36"/>
        <source>Encode raster for fast detection</source>
        <translation>编码栅格以加速检测</translation>
    </message>
    <message>
        <location filename="../../work/main/deal_qgis/processing/encode_algorithm.py" line="39"/>
        <source>Prepares a raster once so that detections with any prompt points run fast.</source>
        <translation>预先处理一次栅格，使之后任意提示点的检测都能快速运行。</translation>
    </message>
    <message>
        <location filename="../../work/main/deal_qgis/processing/scene_parameters.py" line="116"/>
        <source>Feature cache folder</source>
        <translation>特征缓存文件夹</translation>
    </message>
    <message>
        <location filename="../../work/main/deal_qgis/processing/prompt_points.py" line="42"/>
        <source> and {} more</source>
        <translation> 以及另外 {} 个</translation>
    </message>
    <message>
        <location filename="../../work/main/deal_qgis/processing/prompt_points.py" line="91"/>
        <source>The prompt layer has no field &apos;{}&apos;. Choose the field that holds each point&apos;s category (e.g. &apos;vehicle&apos;, &apos;ship&apos;).</source>
        <translation>提示点图层没有字段“{}”。请选择保存每个点类别的字段（例如“vehicle”、“ship”）。</translation>
    </message>
    <message>
        <location filename="../../work/main/deal_qgis/processing/prompt_points.py" line="94"/>
        <source>The prompt layer must hold points (one click on one object each); it holds {}.</source>
        <translation>提示图层必须包含点（每个点对应点击一个目标）；但它包含的是 {}。</translation>
    </message>
    <message>
        <location filename="../../work/main/deal_qgis/processing/prompt_points.py" line="127"/>
        <source>Field &apos;{}&apos; is empty for prompt point(s) {}. Give every point a category (e.g. &apos;vehicle&apos;) or remove it.</source>
        <translation>字段“{}”在提示点 {} 中为空。请为每个点指定类别（例如“vehicle”）或将其删除。</translation>
    </message>
    <message>
        <location filename="../../work/main/deal_qgis/processing/prompt_points.py" line="130"/>
        <source>Prompt point(s) {} cannot be reprojected from {} to the raster&apos;s CRS {}. Check the prompt layer&apos;s CRS.</source>
        <translation>提示点 {} 无法从 {} 重投影到栅格坐标系 {}。请检查提示图层的坐标系。</translation>
    </message>
    <message>
        <location filename="../../work/main/deal_qgis/processing/prompt_points.py" line="135"/>
        <source>Prompt point(s) {} lie outside the raster. Move them onto the raster, or check the prompt layer&apos;s CRS ({}).</source>
        <translation>提示点 {} 位于栅格之外。请将其移到栅格上，或检查提示图层的坐标系（{}）。</translation>
    </message>
    <message>
        <location filename="../../work/main/deal_qgis/processing/prompt_points.py" line="139"/>
        <source>The prompt layer holds no points. Add at least one point on an object of each kind to find (or uncheck &apos;Selected features only&apos; if nothing is selected).</source>
        <translation>提示图层中没有点。请为每类要查找的目标至少添加一个点（若未选择任何要素，请取消勾选“仅选中的要素”）。</translation>
    </message>
    <message>
        <location filename="../../work/main/deal_qgis/processing/scene_parameters.py" line="82"/>
        <source>Raster (georeferenced image)</source>
        <translation>栅格（带地理参考的影像）</translation>
    </message>
    <message>
        <location filename="../../work/main/deal_qgis/processing/scene_parameters.py" line="82"/>
        <source>The image to search: a raster file with a CRS (GeoTIFF, JPEG2000, VRT...). Any size: it is read tile by tile.</source>
        <translation>要搜索的影像：带坐标系的栅格文件（GeoTIFF、JPEG2000、VRT……）。任意大小：按瓦片读取。</translation>
    </message>
    <message>
        <location filename="../../work/main/deal_qgis/processing/scene_parameters.py" line="87"/>
        <source>Bands read as red, green, blue</source>
        <translation>作为红、绿、蓝读取的波段</translation>
    </message>
    <message>
        <location filename="../../work/main/deal_qgis/processing/scene_parameters.py" line="95"/>
        <source>Tile size (pixels)</source>
        <translation>瓦片大小（像素）</translation>
    </message>
    <message>
        <location filename="../../work/main/deal_qgis/processing/scene_parameters.py" line="100"/>
        <source>Tile overlap (pixels)</source>
        <translation>瓦片重叠（像素）</translation>
    </message>
    <message>
        <location filename="../../work/main/deal_qgis/processing/scene_parameters.py" line="105"/>
        <source>Compute device</source>
        <translation>计算设备</translation>
    </message>
    <message>
        <location filename="../../work/main/deal_qgis/processing/scene_parameters.py" line="105"/>
        <source>auto: the GPU (CUDA) when onnxruntime can use one, else the CPU. cuda fails with a clear message when no GPU is available.</source>
        <translation>auto：onnxruntime 可使用 GPU（CUDA）时使用 GPU，否则使用 CPU。选择 cuda 而没有可用 GPU 时，会给出明确的错误信息。</translation>
    </message>
    <message>
        <location filename="../../work/main/deal_qgis/settings_panel.py" line="66"/>
        <source>Model folder</source>
        <translation>模型文件夹</translation>
    </message>
    <message>
        <location filename="../../work/main/deal_qgis/processing/scene_parameters.py" line="111"/>
        <source>Folder holding the DEAL model (encoder.onnx and prompt_head.onnx). Default: the model that ships with the plugin.</source>
        <translation>包含 DEAL 模型（encoder.onnx 和 prompt_head.onnx）的文件夹。默认：插件自带的模型。</translation>
    </message>
    <message>
        <location filename="../../work/main/deal_qgis/processing/scene_parameters.py" line="130"/>
        <source>The raster layer cannot be loaded. Check that the file exists.</source>
        <translation>无法加载栅格图层。请检查文件是否存在。</translation>
    </message>
    <message>
        <location filename="../../work/main/deal_qgis/processing/scene_parameters.py" line="132"/>
        <source>The raster &apos;{}&apos; has no CRS, so the prompt points cannot be placed on it and sizes in metres are unknown. Assign its CRS first (Layer Properties &gt; Source, or Raster &gt; Projections &gt; Assign Projection).</source>
        <translation>栅格“{}”没有坐标系，因此无法在其上放置提示点，也无法得知以米为单位的尺寸。请先为其指定坐标系（图层属性 &gt; 源，或 栅格 &gt; 投影 &gt; 指定投影）。</translation>
    </message>
    <message>
        <location filename="../../work/main/deal_qgis/processing/scene_parameters.py" line="143"/>
        <source>The feature cache folder {} cannot be created ({}). Choose a folder you can write to.</source>
        <translation>无法创建特征缓存文件夹 {}（{}）。请选择一个可写入的文件夹。</translation>
    </message>
    <message>
        <location filename="../../work/main/deal_qgis/result_layers.py" line="100"/>
        <source>Objects detected by DEAL per category: {0}</source>
        <translation>DEAL 按类别检测到的目标：{0}</translation>
    </message>
    <message>
        <location filename="../../work/main/deal_qgis/result_layers.py" line="119"/>
        <source>all categories</source>
        <translation>所有类别</translation>
    </message>
    <message>
        <location filename="../../work/main/deal_qgis/result_layers.py" line="127"/>
        <source>Cannot create &apos;{0}&apos;: {1}</source>
        <translation>无法创建“{0}”：{1}</translation>
    </message>
    <message>
        <location filename="../../work/main/deal_qgis/vector_export.py" line="39"/>
        <source>Writing &apos;{0}&apos; failed: {1}</source>
        <translation>写入“{0}”失败：{1}</translation>
    </message>
    <message>
        <location filename="../../work/main/deal_qgis/result_layers.py" line="168"/>
        <source>The density raster &apos;{0}&apos; cannot be opened.</source>
        <translation>无法打开密度栅格“{0}”。</translation>
    </message>
    <message>
        <location filename="../../work/main/deal_qgis/settings_panel.py" line="29"/>
        <source>Settings</source>
        <translation>设置</translation>
    </message>
    <message>
        <location filename="../../work/main/deal_qgis/settings_panel.py" line="33"/>
        <source>bundled model</source>
        <translation>内置模型</translation>
    </message>
    <message>
        <location filename="../../work/main/deal_qgis/settings_panel.py" line="34"/>
        <source>Folder holding encoder.onnx and prompt_head.onnx; empty = the model shipped with DEAL.</source>
        <translation>包含 encoder.onnx 和 prompt_head.onnx 的文件夹；留空 = 使用 DEAL 自带的模型。</translation>
    </message>
    <message>
        <location filename="../../work/main/deal_qgis/settings_panel.py" line="47"/>
        <source>model default</source>
        <translation>模型默认值</translation>
    </message>
    <message>
        <location filename="../../work/main/deal_qgis/settings_panel.py" line="49"/>
        <source>automatic (GPU if available)</source>
        <translation>自动（有 GPU 时使用 GPU）</translation>
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
        <translation>临时图层</translation>
    </message>
    <message>
        <location filename="../../work/main/deal_qgis/settings_panel.py" line="55"/>
        <source>Folder where detections (GeoPackage) and density (GeoTIFF) are saved; empty = temporary layers.</source>
        <translation>保存检测结果（GeoPackage）和密度（GeoTIFF）的文件夹；留空 = 临时图层。</translation>
    </message>
    <message>
        <location filename="../../work/main/deal_qgis/settings_panel.py" line="67"/>
        <source>Tile size (px)</source>
        <translation>瓦片大小（像素）</translation>
    </message>
    <message>
        <location filename="../../work/main/deal_qgis/settings_panel.py" line="68"/>
        <source>Tile overlap (px)</source>
        <translation>瓦片重叠（像素）</translation>
    </message>
    <message>
        <location filename="../../work/main/deal_qgis/settings_panel.py" line="70"/>
        <source>Device</source>
        <translation>计算设备</translation>
    </message>
    <message>
        <location filename="../../work/main/deal_qgis/settings_panel.py" line="71"/>
        <source>Output folder</source>
        <translation>输出文件夹</translation>
    </message>
    <message>
        <location filename="../../work/main/deal_qgis/vector_export.py" line="27"/>
        <source>Cannot export to &apos;{0}&apos;: use a name ending in .gpkg, .shp or .geojson.</source>
        <translation>无法导出到“{0}”：请使用以 .gpkg、.shp 或 .geojson 结尾的文件名。</translation>
    </message>
    <message>
        <location filename="../../work/main/deal_qgis/detection_task.py" line="80"/>
        <source>The tile settings do not suit the model: {0}. Change them in the DEAL settings (0 = the model&apos;s own).</source>
        <translation>瓦片设置不适用于该模型：{0}。请在 DEAL 设置中修改（0 = 使用模型自身的设置）。</translation>
    </message>
    <message>
        <location filename="../../work/main/deal_qgis/processing/scene_parameters.py" line="95"/>
        <source>Side of the square tiles the model sees, in model pixels: a multiple of 32, at least 192. Not set: the model&apos;s own tile size.</source>
        <translation>模型所见正方形瓦片的边长，以模型像素计：32 的倍数，至少 192。未设置：使用模型自身的瓦片大小。</translation>
    </message>
    <message>
        <location filename="../../work/main/deal_qgis/processing/scene_parameters.py" line="100"/>
        <source>How far neighbouring tiles overlap, in model pixels, so objects on a tile edge are seen whole. Less than half the tile size. Not set: the model&apos;s own overlap.</source>
        <translation>相邻瓦片的重叠量（以模型像素计），使位于瓦片边缘的目标能被完整看到。须小于瓦片大小的一半。未设置：使用模型自身的重叠量。</translation>
    </message>
    <message>
        <location filename="../../work/main/deal_qgis/processing/session_pool.py" line="78"/>
        <source>The tiling cannot be used: {}. Change the tile size or overlap, or leave them unset to use the model&apos;s own.</source>
        <translation>无法使用该瓦片设置：{}。请修改瓦片大小或重叠量，或留空以使用模型自身的设置。</translation>
    </message>
    <message>
        <location filename="../../work/main/deal_qgis/processing/detect_algorithm.py" line="85"/>
        <source>Click one object of each kind (one point per object, with its category in an attribute) and DEAL finds all objects of those kinds across the whole raster.
Outputs: the objects as rectangles in the raster&apos;s CRS with their category, score and size in metres; a table of counts per category; and a density raster (one band per category).
The raster is encoded tile by tile once; later runs on the same raster with other points reuse that encoding (in this QGIS session, or across sessions with a feature cache folder).</source>
        <translation>为每类目标点击一个目标（每个目标一个点，其类别写在属性中），DEAL 会在整幅栅格中找到这些类别的所有目标。
输出：以栅格坐标系表示的目标矩形，附带类别、得分和以米为单位的尺寸；按类别统计的数量表；以及密度栅格（每个类别一个波段）。
栅格只按瓦片编码一次；之后在同一栅格上使用其他点的运行会复用该编码（在本次 QGIS 会话中，或配合特征缓存文件夹跨会话复用）。</translation>
    </message>
    <message>
        <location filename="../../work/main/deal_qgis/processing/detect_algorithm.py" line="98"/>
        <source>One point per kind is enough; more points of a kind make it more reliable.</source>
        <translation>每类一个点即可；同类多个点会更可靠。</translation>
    </message>
    <message>
        <location filename="../../work/main/deal_qgis/processing/detect_algorithm.py" line="137"/>
        <source>Tile reads answered from encoded tiles</source>
        <translation>由已编码瓦片提供的瓦片读取次数</translation>
    </message>
    <message>
        <location filename="../../work/main/deal_qgis/processing/detect_algorithm.py" line="168"/>
        <source>Tiles encoded: {}; tile reads answered from encoded tiles: {}.</source>
        <translation>已编码瓦片：{}；由已编码瓦片提供的读取：{}。</translation>
    </message>
    <message>
        <location filename="../../work/main/deal_qgis/processing/encode_algorithm.py" line="48"/>
        <source>Runs the expensive part of detection, encoding the raster tile by tile, without writing any result. Give a feature cache folder to keep the encoding on disk: &apos;Detect small objects from point prompts&apos; with the same raster, model, tiling and folder then skips it, also in later QGIS sessions and with qgis_process. Without a folder it is kept in memory until QGIS closes.
Detection looks at each kind of object at the resolution that brings it to the model&apos;s working size. Give a few example points to encode at the resolution of their kinds; without points the raster is encoded at its own resolution.</source>
        <translation>运行检测中开销最大的部分——按瓦片编码栅格，不写出任何结果。指定特征缓存文件夹可将编码保存在磁盘上：之后使用相同栅格、模型、瓦片设置和文件夹运行“根据提示点检测小目标”时将跳过编码，在以后的 QGIS 会话和 qgis_process 中同样有效。不指定文件夹时，编码保存在内存中直到 QGIS 关闭。
检测会以使各类目标达到模型工作尺寸的分辨率来查看它们。给出几个示例点即可按其类别对应的分辨率编码；没有示例点时，栅格按其自身分辨率编码。</translation>
    </message>
    <message>
        <location filename="../../work/main/deal_qgis/processing/encode_algorithm.py" line="62"/>
        <source>Optional: one or a few points per kind of object you will detect later. Not set: the raster is encoded at its own resolution.</source>
        <translation>可选：为之后要检测的每类目标给出一个或几个点。未设置：栅格按其自身分辨率编码。</translation>
    </message>
    <message>
        <location filename="../../work/main/deal_qgis/processing/encode_algorithm.py" line="67"/>
        <source>Tiles found already encoded</source>
        <translation>已存在编码的瓦片数</translation>
    </message>
    <message>
        <location filename="../../work/main/deal_qgis/processing/encode_algorithm.py" line="82"/>
        <source>Encoding at {:.3g} model pixels per raster pixel</source>
        <translation>以每栅格像素 {:.3g} 个模型像素进行编码</translation>
    </message>
    <message>
        <location filename="../../work/main/deal_qgis/processing/encode_algorithm.py" line="87"/>
        <source>Tiles encoded: {}; found already encoded: {}.</source>
        <translation>已编码瓦片：{}；已存在编码：{}。</translation>
    </message>
    <message>
        <location filename="../../work/main/deal_qgis/processing/help_text.py" line="18"/>
        <source>Parameters:</source>
        <translation>参数：</translation>
    </message>
    <message>
        <location filename="../../work/main/deal_qgis/processing/prompt_points.py" line="49"/>
        <source>Points, each on one example object, in any CRS (they are reprojected to the raster&apos;s). {}</source>
        <translation>点，每个点位于一个示例目标上，可为任意坐标系（会重投影到栅格的坐标系）。{}</translation>
    </message>
    <message>
        <location filename="../../work/main/deal_qgis/processing/provider.py" line="25"/>
        <source>DEAL — detect any small object from point prompts</source>
        <translation>DEAL — 根据提示点检测任意小目标</translation>
    </message>
    <message>
        <location filename="../../work/main/deal_qgis/processing/scene_parameters.py" line="87"/>
        <source>Three band numbers in red, green, blue order, e.g. 1,2,3 or 3,2,1; or one band number for a grey image. Not set: the bands marked red, green and blue, else the first three.</source>
        <translation>按红、绿、蓝顺序给出三个波段号，例如 1,2,3 或 3,2,1；灰度影像给出一个波段号。未设置：使用标记为红、绿、蓝的波段，否则使用前三个波段。</translation>
    </message>
    <message>
        <location filename="../../work/main/deal_qgis/processing/scene_parameters.py" line="116"/>
        <source>Folder where the encoded raster is kept. Later runs on the same raster with the same model and tiling reuse it instead of encoding again (see &apos;Encode raster for fast detection&apos;). Not set: encodings are kept in memory for this QGIS session only.</source>
        <translation>保存已编码栅格的文件夹。之后在相同栅格、相同模型和瓦片设置下的运行会复用它而不再重新编码（见“编码栅格以加速检测”）。未设置：编码结果仅在本次 QGIS 会话的内存中保存。</translation>
    </message>
    <message>
        <location filename="../../work/main/deal_qgis/processing/scene_parameters.py" line="158"/>
        <source>Bands &apos;{}&apos; cannot be used: give three band numbers for red, green and blue (e.g. 1,2,3 or 3,2,1) or one band number for a grey image.</source>
        <translation>无法使用波段“{}”：请为红、绿、蓝给出三个波段号（例如 1,2,3 或 3,2,1），灰度影像给出一个波段号。</translation>
    </message>
    <message>
        <location filename="../../work/main/deal_qgis/stage_text.py" line="12"/>
        <source>encoding tile {0}/{1}</source>
        <translation>正在编码瓦片 {0}/{1}</translation>
    </message>
    <message>
        <location filename="../../work/main/deal_qgis/stage_text.py" line="13"/>
        <source>detecting tile {0}/{1}</source>
        <translation>正在检测瓦片 {0}/{1}</translation>
    </message>
    <message>
        <location filename="../../work/main/deal_qgis/stage_text.py" line="14"/>
        <source>reading the &apos;{0}&apos; clicks</source>
        <translation>正在读取“{0}”的点击</translation>
    </message>
    <message>
        <location filename="../../work/main/deal_qgis/stage_text.py" line="15"/>
        <source>encoded</source>
        <translation>已编码</translation>
    </message>
    <message>
        <location filename="../../work/main/deal_qgis/stage_text.py" line="16"/>
        <source>merging</source>
        <translation>正在合并</translation>
    </message>
    <message>
        <location filename="../../work/main/deal_qgis/stage_text.py" line="17"/>
        <source>done</source>
        <translation>完成</translation>
    </message>
    <message>
        <location filename="../../work/main/deal_qgis/processing/session_pool.py" line="44"/>
        <source>DEAL needs the Python package(s) {0}, which this QGIS cannot import. Install them from the DEAL panel (Plugins &gt; DEAL), or run: {1}</source>
        <translation>DEAL 需要 Python 包 {0}，但此 QGIS 无法导入。请在 DEAL 面板（插件 &gt; DEAL）中安装，或运行：{1}</translation>
    </message>
    <message>
        <location filename="../../work/main/deal_qgis/settings.py" line="16"/>
        <source>Also one step finer and coarser (slower)</source>
        <translation>同时在更细和更粗一级尺度上检测（较慢）</translation>
    </message>
    <message>
        <location filename="../../work/main/deal_qgis/settings.py" line="16"/>
        <source>Scale bracketing: each category is also detected at a scale one step below and above the one its clicks chose, and the results merged. About a point more accuracy for every kind of object, at about 3.5 times the encoding time.</source>
        <translation>尺度包围：每个类别还会在其点击所选尺度的上下各一级尺度上检测，并合并结果。每类目标的精度约提高一个百分点，编码时间约为 3.5 倍。</translation>
    </message>
    <message>
        <location filename="../../work/main/deal_qgis/settings_panel.py" line="72"/>
        <source>Scale</source>
        <translation>尺度</translation>
    </message>
    <message>
        <location filename="../../work/main/deal_qgis/processing/detect_algorithm.py" line="165"/>
        <source>Self-prompting: surest detections added to the clicks: {}.</source>
        <translation>自我提示：加入点击的最可靠检测：{}。</translation>
    </message>
    <message>
        <location filename="../../work/main/deal_qgis/settings.py" line="24"/>
        <source>Refine with the surest detections (slower)</source>
        <translation>用最可靠的检测结果细化（较慢）</translation>
    </message>
    <message>
        <location filename="../../work/main/deal_qgis/settings_panel.py" line="73"/>
        <source>Examples</source>
        <translation>示例</translation>
    </message>
    <message>
        <location filename="../../work/main/deal_qgis/settings.py" line="24"/>
        <source>Self-prompting: after a first pass, the objects the model is surest of are added to your clicks and the scene is searched again, at the scale they suggest (the raster is encoded again only if that scale differs). Helps when the clicked object is not typical of its kind: about a point more accuracy on the validation images, for a second search.</source>
        <translation>自我提示：第一遍之后，模型最有把握的目标会加入您的点击，并按它们所示的尺度再次搜索场景（仅当该尺度不同时才重新编码栅格）。当点击的目标不是其类别的典型样例时有帮助：在验证图像上精度约提高一个百分点，代价是第二次搜索。</translation>
    </message>
    <message>
        <location filename="../../work/main/deal_qgis/settings.py" line="33"/>
        <source>Also search the scene rotated and mirrored (slower)</source>
        <translation>同时搜索旋转和镜像后的场景（较慢）</translation>
    </message>
    <message>
        <location filename="../../work/main/deal_qgis/settings.py" line="33"/>
        <source>Test-time views: the scene is also searched mirrored left-right, top-bottom and both, and transposed each of those ways, and each object&apos;s boxes from the eight searches are averaged. Tighter boxes and fewer false detections (several points more accuracy on the validation images), at eight times the encoding time.</source>
        <translation>测试时多视图：场景还会按左右镜像、上下镜像及两者同时镜像进行搜索，并在每种情形下再做转置，对每个目标在八次搜索中得到的框取平均。框更贴合、误检更少（在验证图像上精度提高数个百分点），编码时间为八倍。</translation>
    </message>
    <message>
        <location filename="../../work/main/deal_qgis/settings_panel.py" line="74"/>
        <source>Views</source>
        <translation>视图</translation>
    </message>
</context>
</TS>
