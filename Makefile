# Khoá học mạng nơ-ron — hai lệnh chính: `make lab` (mở khoá học) và `make test` (chạy mọi kiểm thử).
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# BLAS một luồng: nhanh hơn nhiều với ma trận cỡ bài giảng, và không tranh CPU khi chạy song song.
export OPENBLAS_NUM_THREADS ?= 1
export OMP_NUM_THREADS ?= 1
export MKL_NUM_THREADS ?= 1
PYTEST_WORKERS ?= 2
# Gói hệ thống mà kiểm thử cần: từ điển chính tả tiếng Việt, trình duyệt cho kiểm thử giao diện,
# bubblewrap cho hộp cát khi chấm bài.
SYS_PACKAGES := hunspell hunspell-vi chromium bubblewrap fonts-dejavu-core
NB ?= lectures/01_mang_no_ron_lan_truyen_thuan.ipynb
PORT ?= 8866

.PHONY: help setup lab fonts test test-browser bench-grading lint format sysdeps bench demo demo-full clean grade-build grade-check grade-release grade-collect grade-autograde grade-feedback grade-export validate

help:
	@echo "make lab    — cài đặt (nếu cần) rồi mở khoá học trong JupyterLab"
	@echo "make test   — cài đặt (nếu cần) rồi chạy ruff + toàn bộ kiểm thử"
	@echo "make test-unit | test-notebooks | test-grading | test-browser — chỉ một tầng kiểm thử"
	@echo "make bench  — đo tốc độ nblib so với torch.nn và vòng lặp numpy viết tay"
	@echo "make demo NB=lectures/<bài>.ipynb — trình chiếu một bài bằng Voilà"
	@echo "make validate NB=exercises/<bài>/<bài>.ipynb — sinh viên tự kiểm tra bài làm"
	@echo "make grade-build | grade-check | grade-autograde DIR=... | grade-feedback | grade-export CSV=..."

# Proxy của JupyterHub (gói npm configurable-http-proxy): docs/jupyterhub.md, tests/test_hub.py.
CHP := $(VENV)/node/node_modules/.bin/configurable-http-proxy

setup: $(STAMP) $(CHP)

$(CHP): | $(STAMP)
	@if command -v npm >/dev/null 2>&1; then \
	  npm install --silent --prefix $(VENV)/node --no-audit --no-fund configurable-http-proxy@5 >/dev/null; \
	else echo "Thiếu npm: chưa cài proxy của JupyterHub (sudo apt-get install npm)"; fi

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e ".[dev]"
	@touch $(STAMP)

ROOT_FLAG := $(if $(filter 0,$(shell id -u)),--allow-root,)
LAB_OVERRIDES := $(VENV)/share/jupyter/lab/settings/overrides.json
# Bản làm việc của học viên: bản sao bài giảng và bài tập (git bỏ qua), để cập nhật khoá học
# (`git pull`) không bao giờ đụng vào bài làm và notebook trong repo không bị ghi output.
WORK ?= my-work
# Giao diện nbgrader chỉ dành cho giảng viên: tắt trong môi trường của học viên (học viên tự kiểm tra
# bằng `make validate`, thông báo tiếng Việt). `make lab ROLE=giang-vien` bật lại.
INSTRUCTOR_PLUGINS := @jupyter/nbgrader:create-assignment @jupyter/nbgrader:formgrader \
  @jupyter/nbgrader:course-list @jupyter/nbgrader:validate-assignment @jupyter/nbgrader:menu
ROLE ?= hoc-vien
COMMA := ,
LAB_LOCALE := $(if $(filter vi%,$(LANG)),"@jupyterlab/translation-extension:plugin": {"locale": "vi_VN"}$(COMMA),)

# `make lab LANG=vi`: giao diện JupyterLab tiếng Việt (gói jupyterlab-language-pack-vi-vn).
lab: setup fonts
	@if [ "$(filter vi%,$(LANG))" != "" ]; then $(BIN)/python -m pip install -q jupyterlab-language-pack-vi-vn; fi
	@mkdir -p $(WORK) && cp -rn lectures exercises $(WORK)/
	@mkdir -p $(dir $(LAB_OVERRIDES))
	@printf '%s\n' '{$(LAB_LOCALE)' \
	  '"@jupyterlab/docmanager-extension:plugin": {"defaultViewers": {"markdown": "Markdown Preview"}},' \
	  '"@jupyterlab/apputils-extension:notification": {"fetchNews": "false", "checkForUpdates": false},' \
	  '"@jupyterlab/apputils-extension:themes": {"overrides": {"code-font-family": "'"'"'DejaVu Sans Mono'"'"', '"'"'Noto Sans Mono'"'"', monospace"}}}' \
	  > $(LAB_OVERRIDES)
	@for p in $(INSTRUCTOR_PLUGINS); do \
	  $(BIN)/jupyter labextension $(if $(filter giang-vien,$(ROLE)),enable,disable) --level=sys_prefix $$p >/dev/null 2>&1 || true; \
	done
	$(BIN)/jupyter lab $(ROOT_FLAG) --ServerApp.root_dir="$(CURDIR)/$(WORK)" lectures/README.md

# Phông chữ đơn cách có đủ dấu tiếng Việt cho ô mã và output (DejaVu Sans Mono).
fonts:
	@if ! fc-list 2>/dev/null | grep -qi "DejaVu Sans Mono"; then \
	  if [ "$$(id -u)" = "0" ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq fonts-dejavu-core >/dev/null; \
	  else echo "Thiếu phông DejaVu Sans Mono (dấu tiếng Việt trong ô mã): sudo apt-get install fonts-dejavu-core"; fi; \
	fi

sysdeps:
	@missing=""; for p in $(SYS_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = "0" ]; then \
	    echo "Cài gói hệ thống:$$missing"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	  else \
	    echo "Thiếu gói hệ thống:$$missing — hãy chạy: sudo apt-get install$$missing"; \
	  fi; \
	fi

lint: setup
	$(BIN)/ruff check nblib grading tests bench
	$(BIN)/ruff format --check nblib grading tests bench

format: setup
	$(BIN)/ruff format nblib grading tests bench
	$(BIN)/ruff check --fix nblib grading tests bench

test: setup sysdeps lint
	$(BIN)/python -m pytest -n $(PYTEST_WORKERS) --dist loadfile -q

# Từng tầng riêng khi đang sửa mã (make test chạy cả bốn): unit < notebooks < grading < browser.
test-unit: setup sysdeps
	$(BIN)/python -m pytest -m unit -n $(PYTEST_WORKERS) --dist loadfile -q

test-notebooks: setup
	$(BIN)/python -m pytest -m notebooks -n $(PYTEST_WORKERS) --dist loadfile -q

test-grading: setup sysdeps
	$(BIN)/python -m pytest -m grading -n $(PYTEST_WORKERS) --dist loadfile -q

bench: setup
	$(BIN)/python bench/bench_train.py
	$(BIN)/python bench/bench_lectures.py
	$(BIN)/python bench/bench_demos.py
	$(BIN)/python bench/bench_demos_browser.py
	$(BIN)/python bench/bench_playground.py
	$(BIN)/python bench/bench_grading.py

bench-grading: setup sysdeps
	$(BIN)/python bench/bench_grading.py

# Chỉ các kiểm thử trên trình duyệt thật (JupyterLab/Voilà + chromium); ảnh chụp lỗi trong test-artifacts/.
test-browser: setup sysdeps
	$(BIN)/python -m pytest -m browser tests/test_browser.py tests/test_browser_playground.py tests/test_browser_present.py -q

# Chế độ giảng viên (docs/presenting.md): chỉ các ô có thẻ "trinh-chieu", ẩn mã, kernel hâm nóng sẵn,
# chữ to cho máy chiếu, không tải gì ngoài máy. `make demo-full` trình chiếu cả bài như trước.
demo: setup fonts
	$(BIN)/python -m nblib.presentation.present "$(NB)" --port=$(PORT)

demo-full: setup fonts
	$(BIN)/python -m nblib.presentation.present "$(NB)" --port=$(PORT) --full

# ---- Chấm điểm (giảng viên) và tự kiểm tra (sinh viên); xem docs/instructors.md ----
DIR ?= nop-bai
CSV ?= .grading-workspace/diem.csv
WORKERS ?=

grade-build: setup
	$(BIN)/python -m grading build

grade-check: setup
	$(BIN)/python -m grading check

grade-release: setup
	$(BIN)/python -m grading release

grade-collect: setup
	$(BIN)/python -m grading collect

grade-autograde: setup
	$(BIN)/python -m grading autograde $(if $(WORKERS),--workers $(WORKERS),) $(DIR)

grade-feedback: setup
	$(BIN)/python -m grading feedback && $(BIN)/python -m grading release-feedback

grade-export: setup
	$(BIN)/python -m grading export $(CSV)

validate: setup
	$(BIN)/python -m grading validate "$(NB)"

clean:
	rm -rf $(VENV) .pytest_cache .grading-workspace test-artifacts .trinh-chieu lectures/.trinh-chieu
