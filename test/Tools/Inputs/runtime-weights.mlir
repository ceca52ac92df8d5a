// Weight quantizers run at compile time: a non-constant weight is an error.

func.func @f(%w: tensor<8x64xf32>) -> tensor<1xf32> {
  %c, %s = binq.quantize #binq.bwn %w : tensor<8x64xf32> -> tensor<8x64x!binq.binary>, tensor<1xf32>
  return %s : tensor<1xf32>
}
