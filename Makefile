# Two commands on a fresh machine: `make run` (demo on SQLite) and `make test` (everything).
# Each installs what is missing first; versions are those known to work (see README, "Toolchain").

CARGO_LEPTOS_VERSION := 0.3.10
WASM_BINDGEN_VERSION := 0.2.130
SCHEMATHESIS_VERSION := 4.32.5
SCHEMATHESIS := .tools/schemathesis-$(SCHEMATHESIS_VERSION)/bin/schemathesis
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

# wasm-opt comes from npm's binaryen (Debian's is too old and breaks hydration).
export PATH := $(CURDIR)/end2end/node_modules/.bin:$(HOME)/.cargo/bin:$(PATH)

.PHONY: run test build tools browser-tools check-wasm-deps check-wasm-size lint unit e2e api-conformance cluster clean

run: build
	./target/release/countersign serve --demo

test: build check-wasm-deps check-wasm-size lint unit e2e api-conformance

build: tools
	cargo leptos build --release --split --precompress

tools: end2end/node_modules/.installed
	@rustup target list --installed | grep -q '^wasm32-unknown-unknown$$' || rustup target add wasm32-unknown-unknown
	@cargo leptos --version 2>/dev/null | grep -q ' $(CARGO_LEPTOS_VERSION)$$' \
		|| cargo install cargo-leptos --version $(CARGO_LEPTOS_VERSION) --locked
	@wasm-bindgen --version 2>/dev/null | grep -q ' $(WASM_BINDGEN_VERSION)$$' \
		|| cargo install wasm-bindgen-cli --version $(WASM_BINDGEN_VERSION)

end2end/node_modules/.installed: end2end/package.json end2end/package-lock.json
	cd end2end && npm ci --no-audit --no-fund
	touch $@

browser-tools:
	@command -v /usr/bin/chromium >/dev/null || { $(SUDO) apt-get update && $(SUDO) apt-get install -y chromium; }

# The browser bundle must never pull in the server's runtime or database drivers.
check-wasm-deps:
	@if cargo tree -p app --target wasm32-unknown-unknown --no-default-features --features hydrate -e normal \
		| grep -E '(^|[ ─])(sqlx|tokio|mio)[a-z_-]* v'; then \
		echo "error: the hydrate build depends on a server-only crate (above)"; exit 1; \
	else echo "hydrate dependency tree: no sqlx, tokio or mio"; fi

# What a page load fetches, per route, against the budget (end2end/wasm-budget.mjs says which).
check-wasm-size: build
	node end2end/wasm-budget.mjs target/site/pkg

lint:
	cargo fmt --all -- --check
	cargo clippy --workspace --all-targets -- -D warnings

unit:
	cargo test --workspace

e2e: build browser-tools
	cd end2end && npx playwright test

# Two app servers on the machine's PostgreSQL and NATS, ports 3001 and 3002 (README: "Held actions over NATS").
cluster: build
	end2end/cluster.sh

# The agent API against its own OpenAPI document (schemathesis, pinned, in its own virtualenv).
api-conformance: build $(SCHEMATHESIS)
	end2end/api-conformance.sh $(SCHEMATHESIS)

$(SCHEMATHESIS):
	python3 -m venv .tools/schemathesis-$(SCHEMATHESIS_VERSION)
	.tools/schemathesis-$(SCHEMATHESIS_VERSION)/bin/pip install --quiet schemathesis==$(SCHEMATHESIS_VERSION)

clean:
	cargo clean
	rm -rf end2end/node_modules end2end/test-results .tools
