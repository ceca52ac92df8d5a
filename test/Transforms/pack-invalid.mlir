// RUN: bq-opt %s --binq-pack="panel-width=12" --verify-diagnostics

// expected-error @below {{panel-width must be 0 (chosen per linear) or a positive multiple of 8 up to 256, got 12}}
module {
}
