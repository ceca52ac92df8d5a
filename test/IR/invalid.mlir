// RUN: bq-opt %s --split-input-file --verify-diagnostics

// Every verifier error of the binq dialect, one per case.

// expected-error @below {{packed element type must be !binq.binary, !binq.bool or !binq.ternary, got 'i8'}}
func.func @packed_element(%p: !binq.packed<4x64xi8>)

// -----

// expected-error @below {{the packed (last) dimension must be static}}
func.func @packed_dynamic_last(%p: !binq.packed<4x?x!binq.binary>)

// -----

// expected-error @below {{the panel layout needs a rank-2 [N, K] shape, got rank 3}}
func.func @panel_rank(%p: !binq.packed<2x4x64x!binq.binary, panels = 8>)

// -----

// expected-error @below {{the panel layout needs a static shape}}
func.func @panel_dynamic(%p: !binq.packed<?x64x!binq.binary, panels = 8>)

// -----

// expected-error @below {{panel width must be a positive multiple of 8 up to 256, got 12}}
func.func @panel_width(%p: !binq.packed<16x64x!binq.binary, panels = 12>)

// -----

// expected-error @below {{packed dimensions must be positive, got 0}}
func.func @packed_zero(%p: !binq.packed<0x64x!binq.binary>)

// -----

// expected-error @below {{invalid #binq.uniform quantizer: bits must be between 2 and 16}}
func.func @uniform_bits(%x: tensor<4xf32>) attributes {q = #binq.uniform<bits = 1>}

// -----

// expected-error @below {{invalid #binq.uniform quantizer: clip}}
func.func @uniform_clip(%x: tensor<4xf32>) attributes {q = #binq.uniform<bits = 8, clip_lo = 1.0, clip_hi = -1.0>}

// -----

// expected-error @below {{invalid #binq.lsq quantizer: step}}
func.func @lsq_step(%x: tensor<4xf32>) attributes {q = #binq.lsq<bits = 4, step = 0.0>}

// -----

// expected-error @below {{invalid #binq.elastic quantizer: bits}}
func.func @elastic_bits(%x: tensor<4xf32>) attributes {q = #binq.elastic<bits = 3, alpha = 0.5>}

// -----

// expected-error @below {{invalid #binq.twn quantizer: threshold}}
func.func @twn_threshold(%x: tensor<4xf32>) attributes {q = #binq.twn<threshold = -1.0>}

// -----

// expected-error @below {{duplicate or unknown struct parameter name: scale}}
func.func @unknown_parameter(%x: tensor<4xf32>) attributes {q = #binq.lsq<bits = 4, scale = 0.5>}

// -----

// expected-error @below {{struct is missing required parameter: step}}
func.func @missing_parameter(%x: tensor<4xf32>) attributes {q = #binq.lsq<bits = 4>}

// -----

// expected-error @below {{expected 'true' or 'false', got 'yes'}}
// expected-error @below {{failed to parse BinQ_BoolAttr parameter 'strict'}}
func.func @bool_parameter(%x: tensor<4xf32>) attributes {q = #binq.bool<strict = yes>}

// -----

func.func @constant_not_integer() {
  // expected-error @below {{storage must hold integers}}
  %c = binq.constant dense<[1.0, -1.0]> : tensor<2xf32> -> tensor<2x!binq.binary>
  return
}

// -----

func.func @constant_bad_code() {
  // expected-error @below {{value 0 at flat index 1 is not a valid '!binq.binary' code}}
  %c = binq.constant dense<[1, 0]> : tensor<2xi8> -> tensor<2x!binq.binary>
  return
}

// -----

func.func @constant_bad_shape() {
  // expected-error @below {{storage shape 'tensor<3xi8>' does not match the result shape 'tensor<2x!binq.ternary>'}}
  %c = binq.constant dense<[1, 0, -1]> : tensor<3xi8> -> tensor<2x!binq.ternary>
  return
}

// -----

func.func @constant_bad_words() {
  // expected-error @below {{must be 'tensor<2xi64>' (all words of all planes)}}
  %c = binq.constant dense<[1, 2, 3]> : tensor<3xi64> -> !binq.packed<2x5x!binq.bool>
  return
}

// -----

func.func @constant_out_of_range() {
  // expected-error @below {{value 16 at flat index 0 is not a valid 'ui4' code}}
  %c = binq.constant dense<[16]> : tensor<1xi16> -> tensor<1xui4>
  return
}

// -----

func.func @quantize_code_type(%x: tensor<4x8xf32>) {
  // expected-error @below {{quantizer #binq.bwn produces codes of type '!binq.binary', not '!binq.ternary'}}
  %c, %s = binq.quantize #binq.bwn %x : tensor<4x8xf32> -> tensor<4x8x!binq.ternary>, tensor<1xf32>
  return
}

// -----

func.func @quantize_bit_width(%x: tensor<4x8xf32>) {
  // expected-error @below {{produces codes of type 'i8', not 'i4'}}
  %c, %s = binq.quantize #binq.uniform<bits = 8> %x : tensor<4x8xf32> -> tensor<4x8xi4>, tensor<1xf32>
  return
}

// -----

func.func @quantize_shape(%x: tensor<4x8xf32>) {
  // expected-error @below {{codes shape 'tensor<4x9x!binq.binary>' must match the input shape 'tensor<4x8xf32>'}}
  %c, %s = binq.quantize #binq.sign %x : tensor<4x8xf32> -> tensor<4x9x!binq.binary>, tensor<1xf32>
  return
}

// -----

func.func @quantize_rank(%x: tensor<f32>) {
  // expected-error @below {{input must have rank at least 1}}
  %c, %s = binq.quantize #binq.sign %x : tensor<f32> -> tensor<!binq.binary>, tensor<1xf32>
  return
}

// -----

func.func @quantize_scales(%x: tensor<4x8xf32>) {
  // expected-error @below {{expected 4 scale(s) for a per-row quantizer, got 1}}
  %c, %s = binq.quantize #binq.bwn<granularity = per_row> %x : tensor<4x8xf32> -> tensor<4x8x!binq.binary>, tensor<1xf32>
  return
}

// -----

func.func @quantize_missing_offsets(%x: tensor<4x8xf32>) {
  // expected-error @below {{has an offset: expected an offsets result}}
  %c, %s = binq.quantize #binq.uniform<bits = 8, mode = asymmetric> %x : tensor<4x8xf32> -> tensor<4x8xui8>, tensor<1xf32>
  return
}

// -----

func.func @quantize_unexpected_offsets(%x: tensor<4x8xf32>) {
  // expected-error @below {{has no offset: unexpected offsets result}}
  %c, %s, %o = binq.quantize #binq.sign %x : tensor<4x8xf32> -> tensor<4x8x!binq.binary>, tensor<1xf32>, tensor<1xf32>
  return
}

// -----

func.func @dequantize_shape(%c: tensor<4x8x!binq.binary>, %s: tensor<1xf32>) {
  // expected-error @below {{result shape 'tensor<4x7xf32>' must match the codes shape 'tensor<4x8x!binq.binary>'}}
  %x = binq.dequantize %c scale %s : tensor<4x8x!binq.binary>, tensor<1xf32> -> tensor<4x7xf32>
  return
}

// -----

func.func @dequantize_scales(%c: tensor<4x8x!binq.binary>, %s: tensor<3xf32>) {
  // expected-error @below {{scales must have 1 element (per tensor) or 4 (one per row), got 3}}
  %x = binq.dequantize %c scale %s : tensor<4x8x!binq.binary>, tensor<3xf32> -> tensor<4x8xf32>
  return
}

// -----

func.func @dequantize_offsets(%c: tensor<4x8xui8>, %s: tensor<4xf32>, %o: tensor<1xf32>) {
  // expected-error @below {{offsets must have the type of the scales}}
  %x = binq.dequantize %c scale %s offset %o : tensor<4x8xui8>, tensor<4xf32>, tensor<1xf32> -> tensor<4x8xf32>
  return
}

// -----

func.func @pack_shape(%c: tensor<4x8x!binq.binary>) {
  // expected-error @below {{packed type '!binq.packed<4x9x!binq.binary>' must keep the logical shape and code type of 'tensor<4x8x!binq.binary>'}}
  %p = binq.pack %c : tensor<4x8x!binq.binary> -> !binq.packed<4x9x!binq.binary>
  return
}

// -----

func.func @unpack_type(%p: !binq.packed<4x8x!binq.binary>) {
  // expected-error @below {{must keep the logical shape and code type}}
  %c = binq.unpack %p : !binq.packed<4x8x!binq.binary> -> tensor<4x8x!binq.ternary>
  return
}

// -----

func.func @linear_k(%x: tensor<4x64x!binq.binary>, %w: tensor<8x65x!binq.binary>, %s: tensor<1xf32>) {
  // expected-error @below {{contraction sizes differ: input has K = 64, weight has K = 65}}
  %y = binq.linear %x scale %s, %w scale %s : tensor<4x64x!binq.binary> scale tensor<1xf32>, tensor<8x65x!binq.binary> scale tensor<1xf32> -> tensor<4x8xf32>
  return
}

// -----

func.func @linear_input_rank(%x: tensor<2x4x64x!binq.binary>, %w: tensor<8x64x!binq.binary>, %s: tensor<1xf32>) {
  // expected-error @below {{input must be a rank-2 [M, K] tensor, got rank 3}}
  %y = binq.linear %x scale %s, %w scale %s : tensor<2x4x64x!binq.binary> scale tensor<1xf32>, tensor<8x64x!binq.binary> scale tensor<1xf32> -> tensor<4x8xf32>
  return
}

// -----

func.func @linear_weight_rank(%x: tensor<4x64x!binq.binary>, %w: tensor<64x!binq.binary>, %s: tensor<1xf32>) {
  // expected-error @below {{weight must be a rank-2 [N, K] tensor, got rank 1}}
  %y = binq.linear %x scale %s, %w scale %s : tensor<4x64x!binq.binary> scale tensor<1xf32>, tensor<64x!binq.binary> scale tensor<1xf32> -> tensor<4x8xf32>
  return
}

// -----

func.func @linear_weight_codes(%x: tensor<4x64x!binq.binary>, %w: tensor<8x64xi8>, %s: tensor<1xf32>) {
  // expected-error @below {{weight codes must be !binq.binary or !binq.ternary, got 'i8'}}
  %y = binq.linear %x scale %s, %w scale %s : tensor<4x64x!binq.binary> scale tensor<1xf32>, tensor<8x64xi8> scale tensor<1xf32> -> tensor<4x8xf32>
  return
}

// -----

func.func @linear_panel_input(%x: !binq.packed<8x64x!binq.binary, panels = 8>, %w: tensor<8x64x!binq.binary>, %s: tensor<1xf32>) {
  // expected-error @below {{a packed input must use the rows layout}}
  %y = binq.linear %x scale %s, %w scale %s : !binq.packed<8x64x!binq.binary, panels = 8> scale tensor<1xf32>, tensor<8x64x!binq.binary> scale tensor<1xf32> -> tensor<8x8xf32>
  return
}

// -----

func.func @linear_result(%x: tensor<4x64x!binq.binary>, %w: tensor<8x64x!binq.binary>, %s: tensor<1xf32>) {
  // expected-error @below {{result must be 4x8xf32 (M x N), got 'tensor<4x7xf32>'}}
  %y = binq.linear %x scale %s, %w scale %s : tensor<4x64x!binq.binary> scale tensor<1xf32>, tensor<8x64x!binq.binary> scale tensor<1xf32> -> tensor<4x7xf32>
  return
}

// -----

func.func @linear_input_scales(%x: tensor<4x64x!binq.binary>, %w: tensor<8x64x!binq.binary>, %s: tensor<1xf32>, %s3: tensor<3xf32>) {
  // expected-error @below {{input scales must have 1 element (per tensor) or 4 (one per input row), got 3}}
  %y = binq.linear %x scale %s3, %w scale %s : tensor<4x64x!binq.binary> scale tensor<3xf32>, tensor<8x64x!binq.binary> scale tensor<1xf32> -> tensor<4x8xf32>
  return
}

// -----

func.func @linear_input_offsets(%x: tensor<4x64xui8>, %w: tensor<8x64x!binq.binary>, %s: tensor<1xf32>, %o: tensor<2xf32>) {
  // expected-error @below {{input offsets must have 1 element (per tensor) or 4 (one per input row), got 2}}
  %y = binq.linear %x scale %s offset %o, %w scale %s : tensor<4x64xui8> scale tensor<1xf32> offset tensor<2xf32>, tensor<8x64x!binq.binary> scale tensor<1xf32> -> tensor<4x8xf32>
  return
}

// -----

func.func @linear_weight_scales(%x: tensor<4x64x!binq.binary>, %w: tensor<8x64x!binq.binary>, %s: tensor<1xf32>, %s4: tensor<4xf32>) {
  // expected-error @below {{weight scales must have 1 element (per tensor) or 8 (one per output channel), got 4}}
  %y = binq.linear %x scale %s, %w scale %s4 : tensor<4x64x!binq.binary> scale tensor<1xf32>, tensor<8x64x!binq.binary> scale tensor<4xf32> -> tensor<4x8xf32>
  return
}

// -----

func.func @linear_bias(%x: tensor<4x64x!binq.binary>, %w: tensor<8x64x!binq.binary>, %s: tensor<1xf32>, %b: tensor<7xf32>) {
  // expected-error @below {{bias must have N = 8 elements, got 7}}
  %y = binq.linear %x scale %s, %w scale %s bias %b : tensor<4x64x!binq.binary> scale tensor<1xf32>, tensor<8x64x!binq.binary> scale tensor<1xf32> bias tensor<7xf32> -> tensor<4x8xf32>
  return
}
