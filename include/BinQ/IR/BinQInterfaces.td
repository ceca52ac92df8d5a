//===- BinQInterfaces.td - binq interfaces -----------------*- tablegen -*-===//

#ifndef BINQ_INTERFACES_TD
#define BINQ_INTERFACES_TD

include "mlir/IR/OpBase.td"

def BinQ_QuantizerAttrInterface : AttrInterface<"QuantizerAttrInterface"> {
  let cppNamespace = "::binq";
  let description = [{
    Implemented by every quantizer attribute. `getSpec` returns the parameters
    as the reference semantics take them (`binq::ref::QuantizerSpec`): the
    folders, the lowering and the reference executor read a quantizer only
    through it, so an attribute and its meaning cannot drift apart.
  }];
  let methods = [
    InterfaceMethod<"Returns the quantizer's parameters for the reference "
                    "semantics.", "::binq::ref::QuantizerSpec", "getSpec">,
  ];
}

#endif // BINQ_INTERFACES_TD
