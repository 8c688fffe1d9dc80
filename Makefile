# Wharf's task runner. `make up` starts an all-in-one cluster; `make test` runs the
# whole test suite (it installs what the tests need first).

# Builds land outside the clone when the caller says so (CI keeps one warm target
# directory across clean clones); otherwise cargo's default ./target.
CARGO ?= cargo

.PHONY: up test setup lint bench-api bench-schedule bench-controllers

setup:
	scripts/setup.sh

up: setup
	$(CARGO) run --release --bin wharf -- up

test: setup lint
	scripts/test.sh

lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets --locked -- -D warnings
	cd plugins && $(CARGO) fmt --all -- --check
	cd plugins && CARGO_TARGET_DIR=$${CARGO_TARGET_DIR:-../target}/plugins-native \
	  $(CARGO) clippy --workspace --all-targets --locked -- -D warnings

bench-api: setup
	$(CARGO) build --release --locked --bin wharf --bin wharf-bench
	$${CARGO_TARGET_DIR:-target}/release/wharf-bench api

bench-schedule: setup
	$(CARGO) build --release --locked --bin wharf --bin wharf-bench
	$${CARGO_TARGET_DIR:-target}/release/wharf-bench schedule

bench-controllers: setup
	$(CARGO) build --release --locked --bin wharf --bin wharf-bench
	$${CARGO_TARGET_DIR:-target}/release/wharf-bench controllers
