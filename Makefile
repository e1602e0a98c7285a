# webcare_social: two commands do all set-up on a fresh machine.
#   make demo  - the running product with demo data on http://localhost:8069 (admin/admin)
#   make test  - fresh databases, every test, ends with "N passed, N failed"
.PHONY: demo test lint bench i18n pg-stop clean help

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

pg-stop:
	@bash -c 'source scripts/lib.sh; bin=$$(pg_bin); as_pg_owner "$$bin/pg_ctl" -D "$$PG_DIR/data" stop -m fast'

clean: pg-stop
	rm -rf .local
