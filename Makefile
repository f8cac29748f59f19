# The checks live in scripts/test.sh so that they run the same without make.

VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo devel)
COMMIT  ?= $(shell git rev-parse HEAD 2>/dev/null)
LDFLAGS := -X main.version=$(VERSION) -X main.commit=$(COMMIT)

.PHONY: test lint fuzz build demo clean

## test: gofmt, go vet, staticcheck, go test -race and a short fuzz pass
test:
	scripts/test.sh

## lint: gofmt, go vet and staticcheck only
lint:
	scripts/test.sh fmt vet staticcheck

## fuzz: the fuzz pass only (FUZZTIME=30s make fuzz for a longer one)
fuzz:
	scripts/test.sh fuzz

## build: bin/gateway with the version and commit stamped in
build:
	go build -ldflags "$(LDFLAGS)" -o bin/gateway ./cmd/gateway

## demo: the in-memory demo on 127.0.0.1:8080
demo:
	go run ./cmd/gateway demo

clean:
	rm -rf bin .tools
