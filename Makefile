# Common tasks; each is a plain command you can also run by hand.
.PHONY: build test run bench

build:
	go build -o bin/hashproxy ./cmd/hashproxy

test:
	bash scripts/test.sh

run:
	bash scripts/run-local.sh

bench:
	bash bench/run.sh
