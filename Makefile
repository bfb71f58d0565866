# Two commands do all the set-up on a fresh machine with python3 and make:
#   make run   - install, migrate, seed the demo co-op, serve http://127.0.0.1:$(PORT) with a Celery worker and beat
#   make test  - install and run the whole test suite
PYTHON ?= python3
VENV ?= .venv
PORT ?= 5000
BIN := $(VENV)/bin
FLASK := FLASK_APP=marketplace $(BIN)/flask
STAMP := $(VENV)/.installed

.PHONY: run test install lint migrate seed worker clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): requirements.txt requirements-dev.txt | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	touch $(STAMP)

install: $(STAMP)

migrate: install
	$(FLASK) db upgrade heads

seed: migrate
	$(FLASK) seed-demo --if-empty

run: seed
	@echo "Serving on http://127.0.0.1:$(PORT) with a Celery worker and beat (Ctrl-C stops all)."
	@trap 'kill 0' INT TERM EXIT; \
	$(BIN)/celery -A workers.celery_app worker --beat --loglevel=INFO --concurrency=1 --pool=solo & \
	$(FLASK) run --host 127.0.0.1 --port $(PORT) --no-reload --with-threads

test: install
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/bandit -q -r marketplace workers config.py wsgi.py gunicorn.conf.py --severity-level medium

clean:
	rm -rf $(VENV) instance .pytest_cache
