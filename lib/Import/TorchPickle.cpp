//===- TorchPickle.cpp - restricted unpickler for torch.save files --------===//
//
// Implements the subset of the pickle virtual machine that torch.save emits
// for state dicts (protocol 2, plus the few protocol-4 opcodes a newer
// pickler may use for the same objects). Every opcode consumes at least one
// byte and every node is created by an opcode, so decoding is linear in the
// input and terminates on any bytes.
//
//===----------------------------------------------------------------------===//

#include "TorchPickle.h"
#include "ImportSupport.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/StringSwitch.h"
#include "llvm/ADT/bit.h"
#include "llvm/Support/Endian.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/MathExtras.h"
#include "llvm/Support/raw_ostream.h"

using namespace llvm;
using Kind = binq::import::detail::PickleNode::Kind;

namespace binq::import::detail {

namespace {

// Opcode bytes, named as in CPython's pickletools.
enum Opcode : uint8_t {
  MARK = '(',
  STOP = '.',
  BININT = 'J',
  BININT1 = 'K',
  BININT2 = 'M',
  NONE = 'N',
  BINPERSID = 'Q',
  REDUCE = 'R',
  BINSTRING = 'T',
  SHORT_BINSTRING = 'U',
  BINUNICODE = 'X',
  APPEND = 'a',
  BUILD = 'b',
  GLOBAL = 'c',
  APPENDS = 'e',
  BINGET = 'h',
  LONG_BINGET = 'j',
  BINPUT = 'q',
  LONG_BINPUT = 'r',
  SETITEM = 's',
  TUPLE = 't',
  SETITEMS = 'u',
  BINFLOAT = 'G',
  EMPTY_DICT = '}',
  EMPTY_LIST = ']',
  EMPTY_TUPLE = ')',
  PROTO = 0x80,
  TUPLE1 = 0x85,
  TUPLE2 = 0x86,
  TUPLE3 = 0x87,
  NEWTRUE = 0x88,
  NEWFALSE = 0x89,
  LONG1 = 0x8a,
  SHORT_BINUNICODE = 0x8c,
  STACK_GLOBAL = 0x93,
  MEMOIZE = 0x94,
  FRAME = 0x95,
};

std::string escaped(StringRef text) {
  std::string result;
  raw_string_ostream os(result);
  printEscapedString(text, os);
  return result;
}

std::string opcodeName(uint8_t opcode) {
  std::string name;
  raw_string_ostream os(name);
  os << format("0x%02x", opcode);
  if (isPrint(opcode))
    os << " '" << static_cast<char>(opcode) << "'";
  return name;
}

} // namespace

PickleReader::PickleReader(StringRef path, ArrayRef<uint8_t> bytes,
                           uint64_t fileOffset, std::string where,
                           PersistentIdStyle style)
    : path(path), bytes(bytes), fileOffset(fileOffset), where(std::move(where)),
      style(style) {}

StringRef PickleReader::kindName(Kind kind) {
  switch (kind) {
  case Kind::None:
    return "None";
  case Kind::Bool:
    return "bool";
  case Kind::Int:
  case Kind::BigInt:
    return "int";
  case Kind::Float:
    return "float";
  case Kind::String:
    return "str";
  case Kind::Tuple:
    return "tuple";
  case Kind::List:
    return "list";
  case Kind::Dict:
    return "dict";
  case Kind::Global:
    return "global";
  case Kind::Storage:
    return "storage";
  case Kind::Tensor:
    return "tensor";
  }
  return "object";
}

Error PickleReader::fail(const Twine &problem) const {
  return fileError(path, problem + " in pickle at offset " +
                             Twine(fileOffset + opcodePosition) + where);
}

Error PickleReader::need(size_t count) const {
  if (bytes.size() - position < count)
    return fail("truncated operand of opcode " +
                opcodeName(bytes[opcodePosition]) + " (needs " + Twine(count) +
                " bytes, " + Twine(bytes.size() - position) + " left)");
  return Error::success();
}

Error PickleReader::pop(uint32_t &id) {
  size_t floor = marks.empty() ? 0 : marks.back();
  if (stack.size() <= floor)
    return fail("stack underflow at opcode " +
                opcodeName(bytes[opcodePosition]));
  id = stack.back();
  stack.pop_back();
  return Error::success();
}

Error PickleReader::top(uint32_t &id) const {
  size_t floor = marks.empty() ? 0 : marks.back();
  if (stack.size() <= floor)
    return fail("stack underflow at opcode " +
                opcodeName(bytes[opcodePosition]));
  id = stack.back();
  return Error::success();
}

Error PickleReader::popMark(size_t &mark) {
  if (marks.empty())
    return fail("opcode " + opcodeName(bytes[opcodePosition]) +
                " without a MARK");
  mark = marks.back();
  marks.pop_back();
  return Error::success();
}

uint32_t PickleReader::push(PickleNode node) {
  nodes.push_back(std::move(node));
  uint32_t id = nodes.size() - 1;
  stack.push_back(id);
  return id;
}

Error PickleReader::readString(size_t length) {
  if (Error error = need(length))
    return error;
  StringRef text(reinterpret_cast<const char *>(bytes.data()) + position,
                 length);
  position += length;
  if (!json::isUTF8(text))
    return fail("string is not valid UTF-8");
  PickleNode node{Kind::String};
  node.text = text;
  push(std::move(node));
  return Error::success();
}

Error PickleReader::global(StringRef module, StringRef name) {
  PickleNode node{Kind::Global};
  if (module == "collections" && name == "OrderedDict") {
    node.integer = static_cast<int64_t>(GlobalKind::OrderedDict);
  } else if (module == "torch._utils" && name == "_rebuild_tensor_v2") {
    node.integer = static_cast<int64_t>(GlobalKind::RebuildTensorV2);
  } else {
    // LongStorage is allowed because BERT checkpoints written by
    // transformers carry an int64 `embeddings.position_ids` buffer.
    std::optional<DType> dtype = module != "torch"
                                     ? std::nullopt
                                     : StringSwitch<std::optional<DType>>(name)
                                           .Case("FloatStorage", DType::F32)
                                           .Case("DoubleStorage", DType::F64)
                                           .Case("HalfStorage", DType::F16)
                                           .Case("BFloat16Storage", DType::BF16)
                                           .Case("LongStorage", DType::I64)
                                           .Default(std::nullopt);
    if (!dtype)
      return fail("forbidden global '" + escaped(module) + "." + escaped(name) +
                  "'");
    node.integer = static_cast<int64_t>(GlobalKind::StorageType);
    node.dtype = *dtype;
  }
  push(std::move(node));
  return Error::success();
}

Error PickleReader::persistentLoad(uint32_t pid) {
  const PickleNode &tuple = nodes[pid];
  size_t expectedSize = style == PersistentIdStyle::Zip ? 5 : 6;
  auto isKind = [&](size_t i, Kind kind) {
    return nodes[tuple.items[i]].kind == kind;
  };
  if (tuple.kind != Kind::Tuple || tuple.items.size() != expectedSize ||
      !isKind(0, Kind::String) || nodes[tuple.items[0]].text != "storage" ||
      !isKind(1, Kind::Global) || !isKind(2, Kind::String) ||
      !isKind(3, Kind::String) || !isKind(4, Kind::Int))
    return fail("persistent id is not a ('storage', type, key, location, "
                "numel" +
                Twine(style == PersistentIdStyle::Legacy ? ", view" : "") +
                ") tuple");
  const PickleNode &type = nodes[tuple.items[1]];
  if (type.integer != static_cast<int64_t>(GlobalKind::StorageType))
    return fail("persistent id names a non-storage type");
  StringRef key = nodes[tuple.items[2]].text;
  int64_t numElements = nodes[tuple.items[4]].integer;
  if (numElements < 0 || numElements > std::numeric_limits<int64_t>::max() / 8)
    return fail("storage '" + key + "' has invalid element count " +
                Twine(numElements));

  auto [it, inserted] =
      declarationByKey.try_emplace(key, unsigned(declarations.size()));
  if (inserted) {
    declarations.push_back({key, type.dtype, numElements});
  } else {
    const StorageDeclaration &previous = declarations[it->second];
    if (previous.dtype != type.dtype || previous.numElements != numElements)
      return fail("storage '" + key + "' is declared as " +
                  dtypeName(type.dtype) + "[" + Twine(numElements) +
                  "] after " + dtypeName(previous.dtype) + "[" +
                  Twine(previous.numElements) + "]");
  }

  StorageView view{it->second, 0, numElements};
  if (style == PersistentIdStyle::Legacy) {
    // view_metadata is (view_key, offset, size) for storages that were
    // slices of another storage in torch < 0.4, else None.
    const PickleNode &metadata = nodes[tuple.items[5]];
    if (metadata.kind == Kind::Tuple) {
      if (metadata.items.size() != 3 ||
          nodes[metadata.items[0]].kind != Kind::String ||
          nodes[metadata.items[1]].kind != Kind::Int ||
          nodes[metadata.items[2]].kind != Kind::Int)
        return fail("storage '" + key +
                    "' has view metadata that is not (key, offset, size)");
      view.offset = nodes[metadata.items[1]].integer;
      view.numElements = nodes[metadata.items[2]].integer;
      int64_t end = 0;
      if (view.offset < 0 || view.numElements < 0 ||
          AddOverflow(view.offset, view.numElements, end) || end > numElements)
        return fail("storage view [" + Twine(view.offset) + ", +" +
                    Twine(view.numElements) + ") lies outside storage '" + key +
                    "' of " + Twine(numElements) + " elements");
    } else if (metadata.kind != Kind::None) {
      return fail("storage '" + key + "' has view metadata of type " +
                  kindName(metadata.kind));
    }
  }
  views.push_back(view);
  PickleNode node{Kind::Storage};
  node.integer = views.size() - 1;
  push(std::move(node));
  return Error::success();
}

bool PickleReader::intTuple(uint32_t id, std::vector<int64_t> &values) const {
  const PickleNode &tuple = nodes[id];
  if (tuple.kind != Kind::Tuple)
    return false;
  for (uint32_t item : tuple.items) {
    if (nodes[item].kind != Kind::Int)
      return false;
    values.push_back(nodes[item].integer);
  }
  return true;
}

Error PickleReader::rebuildTensor(const PickleNode &args) {
  // _rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad,
  //                    backward_hooks[, metadata])
  TensorRecord record;
  if (args.items.size() < 6 || args.items.size() > 7 ||
      nodes[args.items[0]].kind != Kind::Storage ||
      nodes[args.items[1]].kind != Kind::Int ||
      !intTuple(args.items[2], record.shape) ||
      !intTuple(args.items[3], record.strides) ||
      nodes[args.items[4]].kind != Kind::Bool)
    return fail("_rebuild_tensor_v2 arguments are not (storage, offset, "
                "size, stride, requires_grad, backward_hooks)");
  if (record.shape.size() != record.strides.size())
    return fail("_rebuild_tensor_v2 has " + Twine(record.shape.size()) +
                " sizes but " + Twine(record.strides.size()) + " strides");
  record.view = nodes[args.items[0]].integer;
  record.storageOffset = nodes[args.items[1]].integer;
  tensorRecords.push_back(std::move(record));
  PickleNode node{Kind::Tensor};
  node.integer = tensorRecords.size() - 1;
  push(std::move(node));
  return Error::success();
}

Error PickleReader::reduce(uint32_t callable, uint32_t args) {
  const PickleNode &function = nodes[callable];
  if (function.kind != Kind::Global)
    return fail("REDUCE on a " + kindName(function.kind) +
                ", which is not callable");
  if (nodes[args].kind != Kind::Tuple)
    return fail("REDUCE with " + kindName(nodes[args].kind) +
                " arguments instead of a tuple");
  switch (static_cast<GlobalKind>(function.integer)) {
  case GlobalKind::OrderedDict: {
    if (!nodes[args].items.empty())
      return fail("collections.OrderedDict called with arguments");
    PickleNode dict{Kind::Dict};
    dict.integer = 1;
    push(std::move(dict));
    return Error::success();
  }
  case GlobalKind::RebuildTensorV2: {
    // Copied: rebuildTensor pushes nodes, which may reallocate `nodes`.
    PickleNode argsCopy = nodes[args];
    return rebuildTensor(argsCopy);
  }
  case GlobalKind::StorageType:
    break;
  }
  return fail("REDUCE may only call collections.OrderedDict or "
              "torch._utils._rebuild_tensor_v2, not a storage class");
}

Expected<uint32_t> PickleReader::run() {
  while (true) {
    if (position >= bytes.size()) {
      opcodePosition = position;
      return fail("missing STOP opcode");
    }
    opcodePosition = position;
    uint8_t opcode = bytes[position++];
    const uint8_t *operand = bytes.data() + position;
    uint32_t a = 0, b = 0;
    size_t mark = 0;
    switch (opcode) {
    case PROTO: {
      if (Error error = need(1))
        return error;
      ++position;
      if (*operand > 5)
        return fail("unsupported pickle protocol " + Twine(*operand));
      break;
    }
    case FRAME: {
      // Frames only group opcodes for buffered reading; the contents are
      // decoded inline.
      if (Error error = need(8))
        return error;
      position += 8;
      uint64_t frameLength = support::endian::read64le(operand);
      if (frameLength > bytes.size() - position)
        return fail("frame of " + Twine(frameLength) +
                    " bytes reaches past the end of the pickle");
      break;
    }
    case STOP: {
      if (Error error = pop(a))
        return error;
      return a;
    }
    case NONE:
      push(PickleNode{Kind::None});
      break;
    case NEWTRUE:
    case NEWFALSE: {
      PickleNode node{Kind::Bool};
      node.integer = opcode == NEWTRUE;
      push(std::move(node));
      break;
    }
    case BININT:
    case BININT1:
    case BININT2: {
      size_t width = opcode == BININT ? 4 : opcode == BININT2 ? 2 : 1;
      if (Error error = need(width))
        return error;
      position += width;
      PickleNode node{Kind::Int};
      node.integer =
          opcode == BININT
              ? static_cast<int32_t>(support::endian::read32le(operand))
          : opcode == BININT2 ? support::endian::read16le(operand)
                              : *operand;
      push(std::move(node));
      break;
    }
    case LONG1: {
      if (Error error = need(1))
        return error;
      size_t length = *operand;
      ++position;
      if (Error error = need(length))
        return error;
      const uint8_t *digits = operand + 1;
      position += length;
      PickleNode node{Kind::Int};
      if (length > 8) {
        node.kind = Kind::BigInt;
        node.text = StringRef(reinterpret_cast<const char *>(digits), length);
      } else if (length > 0) {
        uint64_t value = 0;
        for (size_t i = 0; i < length; ++i)
          value |= uint64_t(digits[i]) << (8 * i);
        if (length < 8 && (digits[length - 1] & 0x80))
          value |= ~uint64_t(0) << (8 * length);
        node.integer = static_cast<int64_t>(value);
      }
      push(std::move(node));
      break;
    }
    case BINFLOAT: {
      if (Error error = need(8))
        return error;
      position += 8;
      PickleNode node{Kind::Float};
      node.real = bit_cast<double>(support::endian::read64be(operand));
      push(std::move(node));
      break;
    }
    case BINUNICODE:
    case BINSTRING: {
      if (Error error = need(4))
        return error;
      position += 4;
      uint32_t length = support::endian::read32le(operand);
      if (Error error = readString(length))
        return error;
      break;
    }
    case SHORT_BINUNICODE:
    case SHORT_BINSTRING: {
      if (Error error = need(1))
        return error;
      position += 1;
      if (Error error = readString(*operand))
        return error;
      break;
    }
    case EMPTY_TUPLE:
      push(PickleNode{Kind::Tuple});
      break;
    case EMPTY_LIST:
      push(PickleNode{Kind::List});
      break;
    case EMPTY_DICT:
      push(PickleNode{Kind::Dict});
      break;
    case TUPLE1:
    case TUPLE2:
    case TUPLE3: {
      size_t count = opcode - TUPLE1 + 1;
      PickleNode tuple{Kind::Tuple};
      tuple.items.resize(count);
      for (size_t i = count; i-- > 0;)
        if (Error error = pop(tuple.items[i]))
          return error;
      push(std::move(tuple));
      break;
    }
    case MARK:
      marks.push_back(stack.size());
      break;
    case TUPLE: {
      if (Error error = popMark(mark))
        return error;
      PickleNode tuple{Kind::Tuple};
      tuple.items.assign(stack.begin() + mark, stack.end());
      stack.resize(mark);
      push(std::move(tuple));
      break;
    }
    case APPEND:
    case APPENDS:
    case SETITEM:
    case SETITEMS: {
      std::vector<uint32_t> items;
      if (opcode == APPENDS || opcode == SETITEMS) {
        if (Error error = popMark(mark))
          return error;
        items.assign(stack.begin() + mark, stack.end());
        stack.resize(mark);
      } else {
        size_t count = opcode == SETITEM ? 2 : 1;
        items.resize(count);
        for (size_t i = count; i-- > 0;)
          if (Error error = pop(items[i]))
            return error;
      }
      if (Error error = top(a))
        return error;
      bool isSet = opcode == SETITEM || opcode == SETITEMS;
      Kind expected = isSet ? Kind::Dict : Kind::List;
      if (nodes[a].kind != expected)
        return fail("opcode " + opcodeName(opcode) + " applied to a " +
                    kindName(nodes[a].kind) + " instead of a " +
                    kindName(expected));
      if (isSet && items.size() % 2 != 0)
        return fail("SETITEMS with an odd number of stack items");
      nodes[a].items.insert(nodes[a].items.end(), items.begin(), items.end());
      break;
    }
    case BINPUT:
    case LONG_BINPUT:
    case BINGET:
    case LONG_BINGET: {
      bool isLong = opcode == LONG_BINPUT || opcode == LONG_BINGET;
      if (Error error = need(isLong ? 4 : 1))
        return error;
      position += isLong ? 4 : 1;
      uint64_t index = isLong ? support::endian::read32le(operand) : *operand;
      if (opcode == BINPUT || opcode == LONG_BINPUT) {
        if (Error error = top(a))
          return error;
        memo[index] = a;
      } else {
        auto it = memo.find(index);
        if (it == memo.end())
          return fail("memo slot " + Twine(index) +
                      " is read before it is set");
        stack.push_back(it->second);
      }
      break;
    }
    case MEMOIZE: {
      if (Error error = top(a))
        return error;
      memo[memo.size()] = a;
      break;
    }
    case GLOBAL: {
      // Two newline-terminated lines: module, then name.
      StringRef rest(reinterpret_cast<const char *>(operand),
                     bytes.size() - position);
      size_t moduleEnd = rest.find('\n');
      size_t nameEnd = moduleEnd == StringRef::npos
                           ? StringRef::npos
                           : rest.find('\n', moduleEnd + 1);
      if (nameEnd == StringRef::npos)
        return fail("unterminated GLOBAL operand");
      position += nameEnd + 1;
      if (Error error = global(rest.take_front(moduleEnd),
                               rest.slice(moduleEnd + 1, nameEnd)))
        return error;
      break;
    }
    case STACK_GLOBAL: {
      if (Error error = pop(b))
        return error;
      if (Error error = pop(a))
        return error;
      if (nodes[a].kind != Kind::String || nodes[b].kind != Kind::String)
        return fail("STACK_GLOBAL operands are not strings");
      if (Error error = global(nodes[a].text, nodes[b].text))
        return error;
      break;
    }
    case REDUCE: {
      if (Error error = pop(b))
        return error;
      if (Error error = pop(a))
        return error;
      if (Error error = reduce(a, b))
        return error;
      break;
    }
    case BINPERSID: {
      if (Error error = pop(a))
        return error;
      if (Error error = persistentLoad(a))
        return error;
      break;
    }
    case BUILD: {
      // torch.save uses BUILD once, to set the state dict's _metadata
      // attribute. The state is ignored; only the target is checked.
      if (Error error = pop(b))
        return error;
      if (Error error = top(a))
        return error;
      if (nodes[a].kind != Kind::Dict || nodes[a].integer != 1)
        return fail("BUILD applied to a " + kindName(nodes[a].kind) +
                    " instead of an OrderedDict");
      break;
    }
    default:
      return fail("unsupported opcode " + opcodeName(opcode));
    }
  }
}

const PickleReader::StorageDeclaration *
PickleReader::declaration(StringRef key) const {
  auto it = declarationByKey.find(key);
  return it == declarationByKey.end() ? nullptr : &declarations[it->second];
}

Expected<PickledStateDict> PickleReader::stateDict(uint32_t root) const {
  const PickleNode &dict = nodes[root];
  if (dict.kind != Kind::Dict)
    return fileError(path, "the pickled object" + where +
                               " is not a state dict (it is of type " +
                               kindName(dict.kind) + ")");
  PickledStateDict result;
  StringMap<unsigned> tensorByName;
  DenseMap<unsigned, unsigned> storageByDeclaration;
  for (size_t i = 0; i + 1 < dict.items.size(); i += 2) {
    const PickleNode &key = nodes[dict.items[i]];
    const PickleNode &value = nodes[dict.items[i + 1]];
    if (key.kind != Kind::String)
      return fileError(path, "state dict key #" + Twine(i / 2) + where +
                                 " is not a string (it is of type " +
                                 kindName(key.kind) + ")");
    if (value.kind != Kind::Tensor)
      return fileError(path, "state dict entry '" + key.text + "'" + where +
                                 " is not a tensor (it is of type " +
                                 kindName(value.kind) + ")");
    const TensorRecord &record = tensorRecords[value.integer];
    const StorageView &view = views[record.view];
    const StorageDeclaration &declaration = declarations[view.declaration];

    TensorEntry tensor;
    tensor.name = key.text.str();
    tensor.dtype = declaration.dtype;
    tensor.shape = record.shape;
    tensor.strides = record.strides;
    tensor.storageOffset = record.storageOffset;
    if (Error error = checkTensorExtent(path, tensor, view.numElements,
                                        "'" + declaration.key.str() + "'"))
      return error;
    tensor.storageOffset += view.offset;

    auto [it, inserted] = storageByDeclaration.try_emplace(
        view.declaration, unsigned(result.storages.size()));
    if (inserted)
      result.storages.push_back({declaration.key.str(), declaration.dtype,
                                 declaration.numElements, tensor.name});
    tensor.storage = it->second;

    // Python dict semantics: a repeated key keeps its first position and
    // takes the last value.
    auto [named, isNew] =
        tensorByName.try_emplace(key.text, unsigned(result.tensors.size()));
    if (isNew)
      result.tensors.push_back(std::move(tensor));
    else
      result.tensors[named->second] = std::move(tensor);
  }
  return result;
}

} // namespace binq::import::detail
