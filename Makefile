# webcare_social: two commands do all set-up on a fresh machine.
#   make demo  - the running product with demo data on http://localhost:8069 (admin/admin)
#   make test  - fresh databases, every test, ends with "N passed, N failed"
#   make screenshots [LANG=nl_NL] - the Apps page and README screenshots, from tours
#   make pg-stop - stop the private PostgreSQL;  make clean - remove it and .local
.PHONY: demo test lint bench i18n screenshots pg-stop clean help

help:
	@sed -n 's/^#   //p' Makefile

demo:
	@bash scripts/demo.sh

test:
	@bash scripts/test.sh

lint:
	@bash scripts/lint.sh

bench:
	@bash scripts/bench.sh

i18n:
	@bash scripts/i18n.sh

# LANG only when given on the command line (make screenshots LANG=nl_NL), not the
# locale of the shell; the scripts run with a locale that exists everywhere.
screenshots:
	@WEBCARE_SHOT_LANG=$(if $(filter command line,$(origin LANG)),$(LANG),$${WEBCARE_SHOT_LANG:-en_US}) \
		LANG=C.UTF-8 bash scripts/screenshots.sh

pg-stop:
	@bash -c 'source scripts/lib.sh; pg_stop'

clean: pg-stop
	@bash -c 'source scripts/lib.sh; [ "$$PG_DIR" = "$$LOCAL/pg" ] || rm -rf "$$PG_DIR"'
	rm -rf .local
