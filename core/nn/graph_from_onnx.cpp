// ONNX inference graphs of CNNs and MLPs to nn::Graph. Operators read (opsets 7–18 as PyTorch and onnx
// write them): Conv (groups 1, no dilation), Gemm, MatMul by a constant, Add, Relu, Clip, Sigmoid, Tanh, MaxPool,
// AveragePool, GlobalAveragePool, Flatten, Reshape (to N × features), Pad (constant), Constant,
// BatchNormalization, Softmax, LogSoftmax, Identity, Dropout. What is folded while reading:
//  - Constant nodes become constants; Identity and Dropout pass their input on;
//  - a BatchNormalization right after a Conv (which nothing else reads) scales its filters and bias:
//    w' = w·γ/√(σ²+ε), b' = (b − μ)·γ/√(σ²+ε) + β (PyTorch's exporter does this itself in eval mode; a
//    BatchNormalization elsewhere is a per-channel scale and shift);
//  - an Add of a constant vector right after a MatMul (which nothing else reads) is that layer's bias;
//  - a Conv with unequal pads gets a Pad node before it and runs unpadded.
//  - shape arithmetic on constants (ConstantOfShape, Concat, Reshape, Slice, Transpose, Cast, Unsqueeze, Squeeze:
//    how PyTorch's exporter computes F.pad's pads) is evaluated, giving constants.
// Every refusal is a ModelError naming the node and what is wrong.
#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <map>
#include <set>
#include <variant>

#include "io/onnx_file.hpp"
#include "io/printable.hpp"
#include "nn/graph.hpp"

namespace ks::nn {

namespace {

using io::OnnxAttribute;
using io::OnnxNode;
using io::OnnxTensor;

const char* kSupported =
    "Conv, Gemm, MatMul, Add, Relu, Clip, Sigmoid, Tanh, MaxPool, AveragePool, GlobalAveragePool, Flatten, Reshape, "
    "Pad, Constant, BatchNormalization, Softmax, LogSoftmax, Identity, Dropout; and on constants ConstantOfShape, "
    "Concat, Slice, Transpose, Cast, Unsqueeze, Squeeze";
/// The largest constant the shape arithmetic may build (shapes and pads are a few elements).
constexpr std::int64_t kMaxConstantElements = std::int64_t{1} << 24;

class Builder {
public:
    explicit Builder(const io::OnnxGraph& onnx) : onnx_(onnx) {}

    // What each name of the file stands for: a value of the graph, or a constant.
    struct Value {
        int index = -1;
    };
    using Binding = std::variant<Value, OnnxTensor>;

    std::vector<GraphNode> nodes;
    std::vector<ValueShape> values;
    int output = 0;

    void build() {
        if (onnx_.inputs.size() != 1)
            throw ModelError("the graph has " + std::to_string(onnx_.inputs.size()) +
                             " inputs besides its weights; KernelScope runs networks of one input (a batch of images "
                             "or feature vectors)");
        if (onnx_.outputs.size() != 1)
            throw ModelError("the graph has " + std::to_string(onnx_.outputs.size()) +
                             " outputs; KernelScope runs networks of one output");
        bindInput(onnx_.inputs.front());
        for (const OnnxTensor& t : onnx_.initializers) names_[t.name] = t;
        // Every name each node reads, for "is this read by anything else" decisions and for telling a
        // forward reference (a cycle, or nodes out of order) from a name nothing produces.
        for (std::size_t k = 0; k < onnx_.nodes.size(); ++k) {
            for (const std::string& in : onnx_.nodes[k].inputs)
                if (!in.empty()) ++readers_[in];
            for (const std::string& out : onnx_.nodes[k].outputs) producer_.emplace(out, k);
        }
        ++readers_[onnx_.outputs.front().name];
        for (const OnnxNode& n : onnx_.nodes) node(n);
        const std::string& out = onnx_.outputs.front().name;
        const auto it = names_.find(out);
        if (it == names_.end()) throw ModelError("the graph's output '" + io::printable(out) + "' is produced by no node");
        if (!std::holds_alternative<Value>(it->second))
            throw ModelError("the graph's output '" + io::printable(out) + "' is a constant, not computed from the input");
        output = std::get<Value>(it->second).index;
    }

private:
    const io::OnnxGraph& onnx_;
    std::map<std::string, Binding> names_;
    std::map<std::string, int> readers_;
    std::multimap<std::string, std::size_t> producer_;

    [[noreturn]] void fail(const OnnxNode& n, const std::string& why) const { throw ModelError(n.label() + ": " + why); }

    void bindInput(const io::OnnxValue& in) {
        const std::string where = "the graph's input '" + io::printable(in.name) + "'";
        if (!in.hasShape) throw ModelError(where + " declares no shape");
        const auto& d = in.dims;
        for (std::size_t i = 1; i < d.size(); ++i)
            if (d[i] <= 0) throw ModelError(where + ": dimension " + std::to_string(i) + " is not a fixed size");
        ValueShape s;
        if (d.size() == 2) s = {{d[1], 1, 1}, 1};
        else if (d.size() == 4) s = {{d[1], d[2], d[3]}, 3};
        else
            throw ModelError(where + " has " + std::to_string(d.size()) +
                             " dimensions; KernelScope reads N × features and N × C × H × W inputs");
        for (std::size_t i = 1; i < d.size(); ++i)
            if (d[i] > (std::int64_t{1} << 24)) throw ModelError(where + ": dimension " + std::to_string(i) + " is too large");
        if (s.size() > (std::int64_t{1} << 26)) throw ModelError(where + ": more than 2^26 values per sample");
        values.push_back(s);
        names_[in.name] = Value{0};
    }

    const Binding& lookup(const OnnxNode& n, const std::string& name) const {
        const auto it = names_.find(name);
        if (it != names_.end()) return it->second;
        const auto later = producer_.find(name);
        if (later != producer_.end())
            fail(n, "input '" + io::printable(name) + "' is computed by a later node (" +
                        onnx_.nodes[later->second].label() + "): the graph has a cycle or is not in topological order");
        fail(n, "input '" + io::printable(name) + "' is neither the graph's input, a weight, nor any node's output");
    }
    int valueInput(const OnnxNode& n, std::size_t i) const {
        if (i >= n.inputs.size() || n.inputs[i].empty()) fail(n, "input " + std::to_string(i) + " is missing");
        const Binding& b = lookup(n, n.inputs[i]);
        if (!std::holds_alternative<Value>(b))
            fail(n, "input '" + io::printable(n.inputs[i]) + "' is a constant; KernelScope computes this operator on values");
        return std::get<Value>(b).index;
    }
    const OnnxTensor* constantInput(const OnnxNode& n, std::size_t i, bool required) const {
        if (i >= n.inputs.size() || n.inputs[i].empty()) {
            if (required) fail(n, "input " + std::to_string(i) + " is missing");
            return nullptr;
        }
        const Binding& b = lookup(n, n.inputs[i]);
        if (!std::holds_alternative<OnnxTensor>(b))
            fail(n, "input '" + io::printable(n.inputs[i]) + "' must be a constant (a weight), not computed from the input");
        return &std::get<OnnxTensor>(b);
    }
    const OnnxTensor& floats(const OnnxNode& n, const OnnxTensor* t) const {
        if (t->type != OnnxTensor::Type::Float) fail(n, "tensor '" + io::printable(t->name) + "' holds integers, not weights");
        return *t;
    }
    std::vector<std::int64_t> ints(const OnnxNode& n, const OnnxTensor* t) const {
        if (t->type != OnnxTensor::Type::Int64) fail(n, "tensor '" + io::printable(t->name) + "' holds floats, not integers");
        return t->ints;
    }

    std::int64_t intAttr(const OnnxNode& n, const char* name, std::int64_t fallback) const {
        const OnnxAttribute* a = n.attribute(name);
        if (!a) return fallback;
        if (a->kind != OnnxAttribute::Kind::Int) fail(n, std::string("attribute ") + name + " is not an integer");
        return a->i;
    }
    float floatAttr(const OnnxNode& n, const char* name, float fallback) const {
        const OnnxAttribute* a = n.attribute(name);
        if (!a) return fallback;
        if (a->kind != OnnxAttribute::Kind::Float) fail(n, std::string("attribute ") + name + " is not a float");
        return a->f;
    }
    std::vector<std::int64_t> intsAttr(const OnnxNode& n, const char* name, std::vector<std::int64_t> fallback) const {
        const OnnxAttribute* a = n.attribute(name);
        if (!a) return fallback;
        if (a->kind != OnnxAttribute::Kind::Ints) fail(n, std::string("attribute ") + name + " is not a list of integers");
        return a->ints;
    }
    std::string stringAttr(const OnnxNode& n, const char* name, std::string fallback) const {
        const OnnxAttribute* a = n.attribute(name);
        if (!a) return fallback;
        if (a->kind != OnnxAttribute::Kind::String) fail(n, std::string("attribute ") + name + " is not a string");
        return a->s;
    }

    /// Binds the node's first output (the others must be unused: Dropout's mask, MaxPool's indices).
    void bindOutput(const OnnxNode& n, Binding b) {
        if (n.outputs.empty() || n.outputs.front().empty()) fail(n, "no output");
        for (std::size_t i = 1; i < n.outputs.size(); ++i)
            if (!n.outputs[i].empty() && readers_.count(n.outputs[i]))
                fail(n, "its output " + std::to_string(i) + " ('" + io::printable(n.outputs[i]) +
                            "') is used; KernelScope computes only the first (inference)");
        if (names_.count(n.outputs.front())) fail(n, "output '" + io::printable(n.outputs.front()) + "' is produced twice");
        names_[n.outputs.front()] = std::move(b);
    }
    /// A new node of `kind` reading `inputs`, giving a value of `shape`.
    GraphNode& emit(const OnnxNode& n, GraphNode node, ValueShape shape) {
        if (shape.shape.channels <= 0 || shape.shape.height <= 0 || shape.shape.width <= 0)
            fail(n, "its output would be empty (" + shape.toString() + ")");
        if (node.name.empty()) node.name = io::printable(n.name);
        values.push_back(shape);
        node.output = int(values.size()) - 1;
        nodes.push_back(std::move(node));
        bindOutput(n, Value{nodes.back().output});
        return nodes.back();
    }
    bool readOnce(const std::string& name) const {
        const auto it = readers_.find(name);
        return it != readers_.end() && it->second == 1;
    }
    /// The node that produced `value` (named `name` in the file), when it is the last one emitted, of `kind`, and
    /// nothing but the node being read reads it.
    GraphNode* foldable(const std::string& name, int value, NodeKind kind) {
        if (nodes.empty() || nodes.back().output != value || nodes.back().kind != kind) return nullptr;
        return readOnce(name) ? &nodes.back() : nullptr;
    }

    /// True when every input the node names is a constant (then shape arithmetic on it is folded here).
    bool allConstant(const OnnxNode& n) const {
        bool any = false;
        for (const std::string& in : n.inputs) {
            if (in.empty()) continue;
            if (!std::holds_alternative<OnnxTensor>(lookup(n, in))) return false;
            any = true;
        }
        return any;
    }

    void node(const OnnxNode& n) {
        const std::string& op = n.opType;
        if (op == "Identity" || op == "Dropout") return bindOutput(n, lookup(n, n.inputs.empty() ? "" : n.inputs.front()));
        if (op == "Constant") return constant(n);
        // The shape arithmetic exporters write on constants (PyTorch's F.pad computes its pads so): evaluated now.
        if ((op == "ConstantOfShape" || op == "Concat" || op == "Reshape" || op == "Slice" || op == "Transpose" ||
             op == "Cast" || op == "Unsqueeze" || op == "Squeeze") &&
            allConstant(n))
            return bindOutput(n, foldConstant(n));
        if (op == "Conv") return conv(n);
        if (op == "BatchNormalization") return batchNorm(n);
        if (op == "Gemm" || op == "MatMul") return linear(n);
        if (op == "Add") return add(n);
        if (op == "Relu" || op == "Sigmoid" || op == "Tanh") return elementwise(n);
        if (op == "Clip") return clip(n);
        if (op == "MaxPool" || op == "AveragePool") return pool(n);
        if (op == "GlobalAveragePool") return globalPool(n);
        if (op == "Flatten" || op == "Reshape") return flatten(n);
        if (op == "Pad") return pad(n);
        if (op == "Softmax" || op == "LogSoftmax") return softmax(n);
        fail(n, "operator " + io::printable(op) + " is not supported; KernelScope reads " + kSupported);
    }

    /// ONNX's semantics of these operators on constant tensors (elements in row-major order).
    OnnxTensor foldConstant(const OnnxNode& n) {
        const std::string& op = n.opType;
        const OnnxTensor& x = *constantInput(n, 0, true);
        OnnxTensor out;
        out.name = n.outputs.empty() ? "" : n.outputs.front();
        out.type = x.type;
        const auto count = [](const std::vector<std::int64_t>& dims) {
            std::int64_t c = 1;
            for (std::int64_t d : dims) {
                if (d < 0 || (d > 0 && c > kMaxConstantElements / d)) return kMaxConstantElements + 1;
                c *= d;
            }
            return c;
        };
        // Element i of x into position j of out (both row-major), for every j.
        const auto gather = [&](const std::vector<std::int64_t>& dims, const std::function<std::int64_t(std::int64_t)>& source) {
            out.dims = dims;
            const std::int64_t c = count(dims);
            if (c > kMaxConstantElements) fail(n, "a constant of more than " + std::to_string(kMaxConstantElements) + " elements");
            if (x.type == OnnxTensor::Type::Float) out.floats.resize(std::size_t(c));
            else out.ints.resize(std::size_t(c));
            for (std::int64_t j = 0; j < c; ++j) {
                const std::int64_t i = source(j);
                if (x.type == OnnxTensor::Type::Float) out.floats[std::size_t(j)] = x.floats[std::size_t(i)];
                else out.ints[std::size_t(j)] = x.ints[std::size_t(i)];
            }
        };
        const auto strides = [](const std::vector<std::int64_t>& dims) {
            std::vector<std::int64_t> st(dims.size(), 1);
            for (std::size_t k = dims.size(); k-- > 1;) st[k - 1] = st[k] * dims[k];
            return st;
        };
        const auto axisOf = [&](std::int64_t a, std::size_t rank) {
            if (a < -std::int64_t(rank) || a >= std::int64_t(rank)) fail(n, "axis " + std::to_string(a) + " out of range");
            return std::size_t(a < 0 ? a + std::int64_t(rank) : a);
        };
        const auto axesInput = [&](std::size_t i, const char* attribute) {
            if (const OnnxTensor* t = constantInput(n, i, false)) return ints(n, t);
            return intsAttr(n, attribute, {});
        };
        if (op == "ConstantOfShape") {
            const std::vector<std::int64_t> dims = ints(n, &x);
            OnnxTensor value;
            value.floats = {0.0f};
            if (const OnnxAttribute* a = n.attribute("value"); a && a->kind == OnnxAttribute::Kind::Tensor) value = a->tensor.front();
            if (value.count() != 1) fail(n, "a value that is not one element");
            out.type = value.type;
            out.dims = dims;
            const std::int64_t c = count(dims);
            if (c > kMaxConstantElements) fail(n, "a constant of more than " + std::to_string(kMaxConstantElements) + " elements");
            if (value.type == OnnxTensor::Type::Float) out.floats.assign(std::size_t(c), value.floats.front());
            else out.ints.assign(std::size_t(c), value.ints.front());
            return out;
        }
        if (op == "Cast") {
            const std::int64_t to = intAttr(n, "to", 1);
            out = x;
            out.name = n.outputs.front();
            if (to == 1 || to == 11) {  // FLOAT, DOUBLE
                if (x.type == OnnxTensor::Type::Int64) out.floats.assign(x.ints.begin(), x.ints.end()), out.ints.clear();
                out.type = OnnxTensor::Type::Float;
            } else if (to == 6 || to == 7) {  // INT32, INT64
                if (x.type == OnnxTensor::Type::Float)
                    for (float f : x.floats) out.ints.push_back(std::int64_t(f));
                out.floats.clear();
                out.type = OnnxTensor::Type::Int64;
            } else {
                fail(n, "a cast to element type " + std::to_string(to) + "; KernelScope folds casts to float and integers");
            }
            return out;
        }
        if (op == "Reshape" || op == "Unsqueeze" || op == "Squeeze") {
            std::vector<std::int64_t> dims;
            if (op == "Reshape") {
                const std::vector<std::int64_t> shape = ints(n, constantInput(n, 1, true));
                std::int64_t known = 1, infer = -1;
                for (std::size_t k = 0; k < shape.size(); ++k) {
                    std::int64_t d = shape[k];
                    if (d == 0) d = k < x.dims.size() ? x.dims[k] : 1;
                    if (d == -1) {
                        if (infer >= 0) fail(n, "two −1 in a shape");
                        infer = std::int64_t(k);
                    } else if (d < 0) {
                        fail(n, "a negative dimension in a shape");
                    } else {
                        known *= d;
                    }
                    dims.push_back(d);
                }
                if (infer >= 0) dims[std::size_t(infer)] = known > 0 ? x.count() / known : 0;
            } else {
                dims = x.dims;
                std::vector<std::int64_t> axes = axesInput(1, "axes");
                if (op == "Squeeze") {
                    std::vector<bool> drop(dims.size(), axes.empty());
                    for (std::int64_t a : axes) drop[axisOf(a, dims.size())] = true;
                    std::vector<std::int64_t> kept;
                    for (std::size_t k = 0; k < dims.size(); ++k)
                        if (!drop[k] || dims[k] != 1) kept.push_back(dims[k]);
                    dims = kept;
                } else {
                    const std::size_t rank = dims.size() + axes.size();
                    std::vector<bool> inserted(rank, false);
                    for (std::int64_t a : axes) inserted[axisOf(a, rank)] = true;
                    std::vector<std::int64_t> grown;
                    std::size_t next = 0;
                    for (std::size_t k = 0; k < rank; ++k) grown.push_back(inserted[k] ? 1 : (next < dims.size() ? dims[next++] : 1));
                    dims = grown;
                }
            }
            if (count(dims) != x.count()) fail(n, "a reshape that changes the number of elements");
            gather(dims, [](std::int64_t j) { return j; });
            return out;
        }
        if (op == "Transpose") {
            std::vector<std::int64_t> perm = intsAttr(n, "perm", {});
            if (perm.empty())
                for (std::size_t k = x.dims.size(); k-- > 0;) perm.push_back(std::int64_t(k));
            if (perm.size() != x.dims.size()) fail(n, "a permutation of the wrong length");
            std::vector<std::int64_t> dims;
            for (std::int64_t p : perm) dims.push_back(x.dims[axisOf(p, x.dims.size())]);
            const auto inStrides = strides(x.dims), outStrides = strides(dims);
            gather(dims, [&](std::int64_t j) {
                std::int64_t i = 0;
                for (std::size_t k = 0; k < dims.size(); ++k) i += (j / outStrides[k] % dims[k]) * inStrides[std::size_t(perm[k])];
                return i;
            });
            return out;
        }
        if (op == "Slice") {
            const std::vector<std::int64_t> starts = ints(n, constantInput(n, 1, true)), ends = ints(n, constantInput(n, 2, true));
            std::vector<std::int64_t> axes = axesInput(3, "axes"), steps;
            if (const OnnxTensor* t = constantInput(n, 4, false)) steps = ints(n, t);
            if (axes.empty())
                for (std::size_t k = 0; k < starts.size(); ++k) axes.push_back(std::int64_t(k));
            if (steps.empty()) steps.assign(starts.size(), 1);
            if (ends.size() != starts.size() || axes.size() != starts.size() || steps.size() != starts.size())
                fail(n, "starts, ends, axes and steps of different lengths");
            std::vector<std::int64_t> first(x.dims.size(), 0), step(x.dims.size(), 1), dims = x.dims;
            for (std::size_t k = 0; k < starts.size(); ++k) {
                const std::size_t a = axisOf(axes[k], x.dims.size());
                const std::int64_t size = x.dims[a], st = steps[k];
                if (st == 0) fail(n, "a step of 0");
                const auto clampIndex = [&](std::int64_t v, std::int64_t lo, std::int64_t hi) {
                    if (v < 0) v = v < -size ? -1 : v + size;  // ONNX: negative counts from the end
                    return std::clamp(v, lo, hi);
                };
                const std::int64_t b = st > 0 ? clampIndex(starts[k], 0, size) : clampIndex(starts[k], -1, size - 1);
                const std::int64_t e = st > 0 ? clampIndex(ends[k], 0, size) : clampIndex(ends[k], -1, size - 1);
                first[a] = b;
                step[a] = st;
                dims[a] = st > 0 ? std::max<std::int64_t>(0, (e - b + st - 1) / st) : std::max<std::int64_t>(0, (b - e - st - 1) / -st);
            }
            const auto inStrides = strides(x.dims), outStrides = strides(dims);
            gather(dims, [&](std::int64_t j) {
                std::int64_t i = 0;
                for (std::size_t k = 0; k < dims.size(); ++k) i += (first[k] + (j / outStrides[k] % dims[k]) * step[k]) * inStrides[k];
                return i;
            });
            return out;
        }
        // Concat of constants along `axis`.
        const std::size_t axis = axisOf(intAttr(n, "axis", 0), x.dims.size());
        std::vector<const OnnxTensor*> parts;
        for (std::size_t i = 0; i < n.inputs.size(); ++i) {
            if (n.inputs[i].empty()) continue;
            const OnnxTensor* t = constantInput(n, i, true);
            if (t->type != x.type || t->dims.size() != x.dims.size()) fail(n, "concatenates tensors of different types or ranks");
            for (std::size_t k = 0; k < x.dims.size(); ++k)
                if (k != axis && t->dims[k] != x.dims[k]) fail(n, "concatenates tensors of different shapes");
            parts.push_back(t);
        }
        std::vector<std::int64_t> dims = x.dims;
        dims[axis] = 0;
        for (const OnnxTensor* t : parts) dims[axis] += t->dims[axis];
        out.dims = dims;
        const std::int64_t outer = count({x.dims.begin(), x.dims.begin() + std::ptrdiff_t(axis)});
        for (std::int64_t o = 0; o < outer; ++o)
            for (const OnnxTensor* t : parts) {
                const std::int64_t inner = t->count() / std::max<std::int64_t>(outer, 1);
                for (std::int64_t k = 0; k < inner; ++k) {
                    if (x.type == OnnxTensor::Type::Float) out.floats.push_back(t->floats[std::size_t(o * inner + k)]);
                    else out.ints.push_back(t->ints[std::size_t(o * inner + k)]);
                }
            }
        if (count(dims) > kMaxConstantElements) fail(n, "a constant of more than " + std::to_string(kMaxConstantElements) + " elements");
        return out;
    }

    void constant(const OnnxNode& n) {
        if (n.attributes.size() != 1) fail(n, "a Constant needs exactly one value attribute");
        const OnnxAttribute& a = n.attributes.front();
        OnnxTensor t;
        t.name = n.outputs.empty() ? "" : n.outputs.front();
        if (a.name == "value" && a.kind == OnnxAttribute::Kind::Tensor) t = a.tensor.front();
        else if (a.name == "value_float") t.floats = {a.f};
        else if (a.name == "value_floats") t.floats = a.floats, t.dims = {std::int64_t(a.floats.size())};
        else if (a.name == "value_int") t.type = OnnxTensor::Type::Int64, t.ints = {a.i};
        else if (a.name == "value_ints") t.type = OnnxTensor::Type::Int64, t.ints = a.ints, t.dims = {std::int64_t(a.ints.size())};
        else fail(n, "a Constant's " + io::printable(a.name) + " is not read; KernelScope reads numeric tensors");
        bindOutput(n, std::move(t));
    }

    void checkRank3(const OnnxNode& n, int v) const {
        if (values[std::size_t(v)].rank != 3)
            fail(n, "takes N × C × H × W, but its input is N × " + values[std::size_t(v)].toString());
    }

    /// ONNX's 2-D pads (top, left, bottom, right) from pads / auto_pad, for a window of k moved by s.
    std::array<std::int64_t, 4> padsOf(const OnnxNode& n, const ValueShape& in, std::int64_t kh, std::int64_t kw,
                                       std::int64_t sh, std::int64_t sw) const {
        const std::string autoPad = stringAttr(n, "auto_pad", "NOTSET");
        std::vector<std::int64_t> pads = intsAttr(n, "pads", {0, 0, 0, 0});
        if (pads.size() != 4) fail(n, "pads has " + std::to_string(pads.size()) + " values; a 2-D window needs 4");
        for (std::int64_t p : pads)
            if (p < 0) fail(n, "negative pads");
        if (autoPad == "SAME_UPPER" || autoPad == "SAME_LOWER") {
            // Output ceil(in / s); the odd pixel of padding at the end (UPPER) or the beginning (LOWER).
            const auto total = [](std::int64_t size, std::int64_t k, std::int64_t s) {
                return std::max<std::int64_t>(0, ((size + s - 1) / s - 1) * s + k - size);
            };
            const std::int64_t th = total(in.shape.height, kh, sh), tw = total(in.shape.width, kw, sw);
            const bool upper = autoPad == "SAME_UPPER";
            return {upper ? th / 2 : th - th / 2, upper ? tw / 2 : tw - tw / 2, upper ? th - th / 2 : th / 2,
                    upper ? tw - tw / 2 : tw / 2};
        }
        if (autoPad == "VALID") return {0, 0, 0, 0};
        if (autoPad != "NOTSET") fail(n, "auto_pad " + io::printable(autoPad) + " is not an ONNX mode");
        return {pads[0], pads[1], pads[2], pads[3]};
    }
    std::array<std::int64_t, 2> pairAttr(const OnnxNode& n, const char* name, std::array<std::int64_t, 2> fallback) const {
        const std::vector<std::int64_t> v = intsAttr(n, name, {fallback[0], fallback[1]});
        if (v.size() != 2) fail(n, std::string(name) + " has " + std::to_string(v.size()) + " values; KernelScope runs 2-D windows");
        if (v[0] < 1 || v[1] < 1) fail(n, std::string(name) + " must be positive");
        return {v[0], v[1]};
    }
    void noDilation(const OnnxNode& n) const {
        for (std::int64_t d : intsAttr(n, "dilations", {1, 1}))
            if (d != 1) fail(n, "dilation " + std::to_string(d) + "; KernelScope's convolutions and pools are not dilated");
    }

    /// A Pad node of `pads` on value v; returns the padded value.
    int padNode(int v, std::array<std::int64_t, 4> pads, float value, const std::string& name) {
        const ValueShape& in = values[std::size_t(v)];
        GraphNode p;
        p.kind = NodeKind::Pad;
        p.name = name;
        p.inputs = {v};
        p.window.padTop = pads[0], p.window.padLeft = pads[1], p.window.padBottom = pads[2], p.window.padRight = pads[3];
        p.low = value;
        values.push_back({{in.shape.channels, in.shape.height + pads[0] + pads[2], in.shape.width + pads[1] + pads[3]}, 3});
        p.output = int(values.size()) - 1;
        nodes.push_back(std::move(p));
        return nodes.back().output;
    }

    void conv(const OnnxNode& n) {
        int x = valueInput(n, 0);
        checkRank3(n, x);
        const OnnxTensor& w = floats(n, constantInput(n, 1, true));
        const OnnxTensor* b = constantInput(n, 2, false);
        if (w.dims.size() != 4) fail(n, "weights of " + std::to_string(w.dims.size()) + " dimensions; a 2-D convolution has 4 (K×C×R×S)");
        if (intAttr(n, "group", 1) != 1)
            fail(n, "group " + std::to_string(intAttr(n, "group", 1)) +
                        "; KernelScope's convolutions are dense (group 1): grouped and depthwise ones are not supported");
        noDilation(n);
        const std::int64_t K = w.dims[0], C = w.dims[1], R = w.dims[2], S = w.dims[3];
        const ValueShape& in = values[std::size_t(x)];
        if (C != in.shape.channels)
            fail(n, "weights for " + std::to_string(C) + " input channels, but its input is " + in.toString());
        const auto kernel = pairAttr(n, "kernel_shape", {R, S});
        if (kernel[0] != R || kernel[1] != S) fail(n, "kernel_shape disagrees with the weights' R×S");
        const auto strides = pairAttr(n, "strides", {1, 1});
        if (strides[0] != strides[1])
            fail(n, "strides " + std::to_string(strides[0]) + "×" + std::to_string(strides[1]) +
                        "; KernelScope's conv layers take one stride for both axes");
        std::array<std::int64_t, 4> pads = padsOf(n, in, R, S, strides[0], strides[1]);
        std::int64_t padding = pads[0];
        if (!(pads[0] == pads[1] && pads[1] == pads[2] && pads[2] == pads[3])) {
            x = padNode(x, pads, 0.0f, io::printable(n.name) + ".pad");
            padding = 0;
        }
        const ValueShape& padded = values[std::size_t(x)];
        if (padded.shape.height + 2 * padding < R || padded.shape.width + 2 * padding < S)
            fail(n, "its " + std::to_string(R) + "×" + std::to_string(S) + " kernel is larger than its padded input");
        GraphNode c;
        c.kind = NodeKind::Conv;
        c.inputs = {x};
        Layer& l = c.layer;
        l.kind = LayerKind::Conv2d;
        l.name = io::printable(n.name);
        l.weight = Eigen::Map<const MatrixF>(w.floats.data(), K, C * R * S);
        if (b) {
            const OnnxTensor& bias = floats(n, b);
            if (bias.count() != K) fail(n, "bias of " + std::to_string(bias.count()) + " values for " + std::to_string(K) + " filters");
            l.bias = Eigen::Map<const VectorF>(bias.floats.data(), K);
        }
        l.inChannels = C, l.kernelHeight = R, l.kernelWidth = S, l.stride = strides[0], l.padding = padding;
        l.inputShape = padded.shape;
        const std::int64_t p = (padded.shape.height + 2 * padding - R) / strides[0] + 1;
        const std::int64_t q = (padded.shape.width + 2 * padding - S) / strides[0] + 1;
        l.outputShape = {K, p, q};
        emit(n, std::move(c), {{K, p, q}, 3});
    }

    void batchNorm(const OnnxNode& n) {
        const int x = valueInput(n, 0);
        checkRank3(n, x);
        const std::int64_t C = values[std::size_t(x)].shape.channels;
        std::vector<const OnnxTensor*> t;
        for (std::size_t i = 1; i <= 4; ++i) {
            t.push_back(&floats(n, constantInput(n, i, true)));
            if (t.back()->count() != C)
                fail(n, "tensor '" + io::printable(t.back()->name) + "' has " + std::to_string(t.back()->count()) +
                            " values for " + std::to_string(C) + " channels");
        }
        if (intAttr(n, "training_mode", 0) != 0) fail(n, "training mode; KernelScope runs inference graphs");
        const double eps = floatAttr(n, "epsilon", 1e-5f);
        // y = γ(x − μ)/√(σ² + ε) + β = scale·x + shift, in double, rounded once to float.
        std::vector<double> scale(static_cast<std::size_t>(C)), shift(static_cast<std::size_t>(C));
        for (std::int64_t c = 0; c < C; ++c) {
            const double g = t[0]->floats[std::size_t(c)], beta = t[1]->floats[std::size_t(c)];
            const double mean = t[2]->floats[std::size_t(c)], var = t[3]->floats[std::size_t(c)];
            if (!(var + eps > 0)) fail(n, "variance + epsilon is not positive in channel " + std::to_string(c));
            scale[std::size_t(c)] = g / std::sqrt(var + eps);
            shift[std::size_t(c)] = beta - mean * scale[std::size_t(c)];
        }
        if (GraphNode* conv = foldable(n.inputs[0], x, NodeKind::Conv)) {
            Layer& l = conv->layer;
            if (l.bias.size() == 0) l.bias = VectorF::Zero(l.outFeatures());
            for (std::int64_t k = 0; k < C; ++k) {
                l.weight.row(k) = (l.weight.row(k).cast<double>() * scale[std::size_t(k)]).cast<float>();
                l.bias[k] = float(double(l.bias[k]) * scale[std::size_t(k)] + shift[std::size_t(k)]);
            }
            return bindOutput(n, Value{x});
        }
        GraphNode a;
        a.kind = NodeKind::ChannelAffine;
        a.inputs = {x};
        a.scale.assign(scale.begin(), scale.end());
        a.shift.assign(shift.begin(), shift.end());
        emit(n, std::move(a), values[std::size_t(x)]);
    }

    void linear(const OnnxNode& n) {
        const int x = valueInput(n, 0);
        const ValueShape& in = values[std::size_t(x)];
        if (in.rank != 1)
            fail(n, "takes N × features, but its input is N × " + in.toString() + " (a Flatten must come first)");
        const OnnxTensor& b = floats(n, constantInput(n, 1, true));
        if (b.dims.size() != 2) fail(n, "a weight matrix of " + std::to_string(b.dims.size()) + " dimensions");
        const bool gemm = n.opType == "Gemm";
        if (gemm && intAttr(n, "transA", 0) != 0) fail(n, "transA = 1: the samples must be the rows of A");
        const bool transB = gemm && intAttr(n, "transB", 0) != 0;
        const double alpha = gemm ? floatAttr(n, "alpha", 1.0f) : 1.0, beta = gemm ? floatAttr(n, "beta", 1.0f) : 1.0;
        const std::int64_t inF = transB ? b.dims[1] : b.dims[0], outF = transB ? b.dims[0] : b.dims[1];
        if (inF != in.size())
            fail(n, "a weight matrix for " + std::to_string(inF) + " inputs, but its input has " + std::to_string(in.size()));
        GraphNode g;
        g.kind = NodeKind::Linear;
        g.inputs = {x};
        Layer& l = g.layer;
        l.kind = LayerKind::Linear;
        l.name = io::printable(n.name);
        const Eigen::Map<const MatrixF> B(b.floats.data(), b.dims[0], b.dims[1]);
        l.weight = transB ? MatrixF(B) : MatrixF(B.transpose());  // out × in, as PyTorch's Linear
        if (alpha != 1.0) l.weight = (l.weight.cast<double>() * alpha).cast<float>();
        if (const OnnxTensor* c = gemm ? constantInput(n, 2, false) : nullptr) {
            const OnnxTensor& bias = floats(n, c);
            if (bias.count() != outF && bias.count() != 1)
                fail(n, "C of " + std::to_string(bias.count()) + " values for " + std::to_string(outF) +
                            " outputs (KernelScope broadcasts a vector or a scalar)");
            l.bias.resize(outF);
            for (std::int64_t j = 0; j < outF; ++j)
                l.bias[j] = float(beta * bias.floats[std::size_t(bias.count() == 1 ? 0 : j)]);
        }
        l.inputShape = in.shape;
        l.outputShape = {outF, 1, 1};
        emit(n, std::move(g), {{outF, 1, 1}, 1});
    }

    void add(const OnnxNode& n) {
        if (n.inputs.size() != 2) fail(n, "an Add needs two inputs");
        const Binding& a = lookup(n, n.inputs[0]);
        const Binding& b = lookup(n, n.inputs[1]);
        const bool av = std::holds_alternative<Value>(a), bv = std::holds_alternative<Value>(b);
        if (av && bv) {
            const int x = std::get<Value>(a).index, y = std::get<Value>(b).index;
            if (!(values[std::size_t(x)] == values[std::size_t(y)]))
                fail(n, "adds N × " + values[std::size_t(x)].toString() + " to N × " + values[std::size_t(y)].toString() +
                            "; KernelScope adds values of one shape (or a constant broadcast)");
            GraphNode g;
            g.kind = NodeKind::Add;
            g.inputs = {x, y};
            emit(n, std::move(g), values[std::size_t(x)]);
            return;
        }
        if (!av && !bv) fail(n, "adds two constants; KernelScope computes Add on values");
        const int x = av ? std::get<Value>(a).index : std::get<Value>(b).index;
        const OnnxTensor& c = floats(n, &std::get<OnnxTensor>(av ? b : a));
        const ValueShape& s = values[std::size_t(x)];
        // The constant, broadcast to one sample's shape: a scalar, one value per feature (rank 1), per channel
        // (C×1×1), or the whole map.
        std::vector<float> full(std::size_t(s.size()));
        const std::int64_t plane = s.shape.height * s.shape.width;
        std::vector<std::int64_t> dims = c.dims;
        while (!dims.empty() && dims.front() == 1 && dims.size() > std::size_t(s.rank)) dims.erase(dims.begin());
        if (c.count() == 1) std::fill(full.begin(), full.end(), c.floats.front());
        else if (c.count() == s.size() && (s.rank == 1 || dims.size() == 3)) full = c.floats;
        else if (s.rank == 3 && c.count() == s.shape.channels && dims.size() == 3 && dims[1] == 1 && dims[2] == 1) {
            for (std::int64_t ch = 0; ch < s.shape.channels; ++ch)
                std::fill_n(full.begin() + ch * plane, plane, c.floats[std::size_t(ch)]);
        } else {
            fail(n, "a constant of " + std::to_string(c.count()) + " values does not broadcast to N × " + s.toString());
        }
        // A bias after a MatMul: that layer's.
        GraphNode* mm = s.rank == 1 ? foldable(n.inputs[av ? 0 : 1], x, NodeKind::Linear) : nullptr;
        if (mm && mm->layer.bias.size() == 0) {
            mm->layer.bias = Eigen::Map<const VectorF>(full.data(), s.size());
            return bindOutput(n, Value{x});
        }
        GraphNode g;
        g.kind = NodeKind::Add;
        g.inputs = {x};
        g.shift = std::move(full);
        emit(n, std::move(g), s);
    }

    void elementwise(const OnnxNode& n) {
        const int x = valueInput(n, 0);
        GraphNode g;
        g.kind = n.opType == "Relu" ? NodeKind::Relu : n.opType == "Sigmoid" ? NodeKind::Sigmoid : NodeKind::Tanh;
        g.inputs = {x};
        emit(n, std::move(g), values[std::size_t(x)]);
    }

    void clip(const OnnxNode& n) {
        const int x = valueInput(n, 0);
        GraphNode g;
        g.kind = NodeKind::Clip;
        g.inputs = {x};
        g.low = -std::numeric_limits<float>::infinity();
        g.high = std::numeric_limits<float>::infinity();
        // Opset < 11: attributes; since 11: optional constant inputs.
        g.low = floatAttr(n, "min", g.low);
        g.high = floatAttr(n, "max", g.high);
        const auto bound = [&](std::size_t i, float& v) {
            if (const OnnxTensor* t = constantInput(n, i, false)) {
                if (floats(n, t).count() != 1) fail(n, "a bound that is not a scalar");
                v = t->floats.front();
            }
        };
        bound(1, g.low);
        bound(2, g.high);
        if (!(g.low <= g.high)) fail(n, "min above max");
        emit(n, std::move(g), values[std::size_t(x)]);
    }

    void pool(const OnnxNode& n) {
        const int x = valueInput(n, 0);
        checkRank3(n, x);
        noDilation(n);
        if (intAttr(n, "storage_order", 0) != 0) fail(n, "storage_order 1 (column-major indices) is not supported");
        const auto kernel = pairAttr(n, "kernel_shape", {0, 0});
        const auto strides = pairAttr(n, "strides", {1, 1});
        const ValueShape& in = values[std::size_t(x)];
        const auto pads = padsOf(n, in, kernel[0], kernel[1], strides[0], strides[1]);
        GraphNode g;
        g.kind = n.opType == "MaxPool" ? NodeKind::MaxPool : NodeKind::AveragePool;
        g.inputs = {x};
        Window& w = g.window;
        w.kernelH = kernel[0], w.kernelW = kernel[1], w.strideH = strides[0], w.strideW = strides[1];
        w.padTop = pads[0], w.padLeft = pads[1], w.padBottom = pads[2], w.padRight = pads[3];
        w.ceilMode = intAttr(n, "ceil_mode", 0) != 0;
        w.countIncludePad = intAttr(n, "count_include_pad", 0) != 0;
        if (w.padTop >= w.kernelH || w.padBottom >= w.kernelH || w.padLeft >= w.kernelW || w.padRight >= w.kernelW)
            fail(n, "pads as large as the window: a window could lie wholly in the padding");
        const auto outSize = [&](std::int64_t size, std::int64_t k, std::int64_t s, std::int64_t before, std::int64_t after) {
            const std::int64_t span = size + before + after - k;
            if (span < 0) fail(n, "a " + std::to_string(kernel[0]) + "×" + std::to_string(kernel[1]) + " window does not fit N × " + in.toString());
            std::int64_t out = (w.ceilMode ? (span + s - 1) / s : span / s) + 1;
            // PyTorch's rule (ONNX's reference too): a last window that would start in the end padding is dropped.
            if (w.ceilMode && (out - 1) * s >= size + before) --out;
            return out;
        };
        const std::int64_t p = outSize(in.shape.height, w.kernelH, w.strideH, w.padTop, w.padBottom);
        const std::int64_t q = outSize(in.shape.width, w.kernelW, w.strideW, w.padLeft, w.padRight);
        emit(n, std::move(g), {{in.shape.channels, p, q}, 3});
    }

    void globalPool(const OnnxNode& n) {
        const int x = valueInput(n, 0);
        checkRank3(n, x);
        GraphNode g;
        g.kind = NodeKind::GlobalAveragePool;
        g.inputs = {x};
        emit(n, std::move(g), {{values[std::size_t(x)].shape.channels, 1, 1}, 3});
    }

    void flatten(const OnnxNode& n) {
        const int x = valueInput(n, 0);
        const ValueShape& in = values[std::size_t(x)];
        if (n.opType == "Flatten") {
            if (intAttr(n, "axis", 1) != 1)
                fail(n, "axis " + std::to_string(intAttr(n, "axis", 1)) + "; KernelScope flattens each sample (axis 1)");
        } else {
            // Reshape to (batch, features): the batch as 0 (copy), −1 or any number; the features as −1 or their count.
            const std::vector<std::int64_t> shape = ints(n, constantInput(n, 1, true));
            const bool ok = shape.size() == 2 && (shape[1] == -1 || shape[1] == in.size()) &&
                            (shape[0] == 0 || shape[0] == -1 || (shape[0] > 0 && shape[1] != -1));
            if (!ok) {
                std::string dims;
                for (std::int64_t d : shape) dims += (dims.empty() ? "" : ", ") + std::to_string(d);
                fail(n, "a reshape to (" + dims + "); KernelScope reshapes N × " + in.toString() + " only to N × " +
                            std::to_string(in.size()) + " (a flatten)");
            }
        }
        if (in.rank == 1) return bindOutput(n, Value{x});
        GraphNode g;
        g.kind = NodeKind::Flatten;
        g.inputs = {x};
        emit(n, std::move(g), {{in.size(), 1, 1}, 1});
    }

    void pad(const OnnxNode& n) {
        const int x = valueInput(n, 0);
        checkRank3(n, x);
        const std::string mode = stringAttr(n, "mode", "constant");
        if (mode != "constant") fail(n, "mode " + io::printable(mode) + "; KernelScope pads with a constant");
        std::vector<std::int64_t> pads;
        float value = floatAttr(n, "value", 0.0f);
        if (n.attribute("pads")) pads = intsAttr(n, "pads", {});
        else pads = ints(n, constantInput(n, 1, true));
        if (const OnnxTensor* v = n.attribute("pads") ? nullptr : constantInput(n, 2, false)) {
            if (floats(n, v).count() != 1) fail(n, "a constant_value that is not a scalar");
            value = v->floats.front();
        }
        if (n.inputs.size() > 3 && !n.inputs[3].empty()) fail(n, "axes are not supported; give pads for all four dimensions");
        if (pads.size() != 8) fail(n, std::to_string(pads.size()) + " pads; an N × C × H × W tensor takes 8");
        for (std::int64_t p : pads)
            if (p < 0) fail(n, "negative pads (cropping) are not supported");
        if (pads[0] || pads[1] || pads[4] || pads[5]) fail(n, "pads the batch or the channels; KernelScope pads height and width");
        for (std::int64_t p : pads)
            if (p > (std::int64_t{1} << 16)) fail(n, "pads of more than 65536");
        // PyTorch writes a Pad of zeros before every AveragePool: nothing to do.
        if (pads[2] == 0 && pads[3] == 0 && pads[6] == 0 && pads[7] == 0) return bindOutput(n, Value{x});
        bindOutput(n, Value{padNode(x, {pads[2], pads[3], pads[6], pads[7]}, value, io::printable(n.name))});
    }

    void softmax(const OnnxNode& n) {
        const int x = valueInput(n, 0);
        const ValueShape& in = values[std::size_t(x)];
        const std::int64_t axis = intAttr(n, "axis", onnx_.opsetVersion >= 13 ? -1 : 1);
        if (in.rank != 1 || (axis != 1 && axis != -1))
            fail(n, "over axis " + std::to_string(axis) + " of N × " + in.toString() +
                        "; KernelScope normalises each sample's features (N × features, axis 1)");
        GraphNode g;
        g.kind = n.opType == "Softmax" ? NodeKind::Softmax : NodeKind::LogSoftmax;
        g.inputs = {x};
        emit(n, std::move(g), in);
    }
};

}  // namespace

Graph Graph::fromOnnx(const io::OnnxGraph& onnx) {
    Builder b(onnx);
    b.build();
    Graph g;
    g.nodes_ = std::move(b.nodes);
    g.values_ = std::move(b.values);
    g.output_ = b.output;
    if (g.nodes_.empty()) throw ModelError("the graph computes nothing (its output is its input)");
    g.source_ = (onnx.producer.empty() ? std::string("unknown producer") : io::printable(onnx.producer)) + ", opset " +
                std::to_string(onnx.opsetVersion);
    g.finish();
    return g;
}

Graph Graph::readOnnx(const std::filesystem::path& path) {
    const io::OnnxGraph onnx = io::readOnnx(path);
    try {
        return fromOnnx(onnx);
    } catch (const ModelError& e) {
        throw ModelError(path.filename().string() + ": " + e.what());
    }
}

}  // namespace ks::nn
