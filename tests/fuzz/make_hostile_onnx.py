#!/usr/bin/python3
"""Hostile ONNX files for the fuzz corpus (tests/fuzz/corpus/onnx/onnx-*), issue 20. Each one must be refused
with one clear error, no crash, bounded memory (tst_fuzz_corpus checks; expected_outcomes.txt says the reason).

Run with Debian's interpreter (python3-onnx):  /usr/bin/python3 tests/fuzz/make_hostile_onnx.py
Built with onnx.helper from a small valid network (conv 1->2 3x3, ReLU, flatten, Gemm), each file breaking one
thing; the truncated one cuts a PyTorch export (tests/data/onnx/cnn_tiny.onnx, scripts/make_onnx_fixtures.py).
"""
import pathlib

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

HERE = pathlib.Path(__file__).resolve().parent
OUT = HERE / "corpus" / "onnx"
DATA = HERE.parent / "data" / "onnx"


def weights(name, shape, seed):
    return numpy_helper.from_array(np.random.default_rng(seed).standard_normal(shape).astype(np.float32), name)


def network(nodes=None, initializers=None, input_dims=("N", 1, 6, 6), extra_nodes=()):
    """conv (1->2, 3x3) -> relu -> flatten -> gemm (32 -> 3); parts replaced by the arguments."""
    base_nodes = [
        helper.make_node("Conv", ["x", "w", "b"], ["c"], name="conv", kernel_shape=[3, 3]),
        helper.make_node("Relu", ["c"], ["r"], name="relu"),
        helper.make_node("Flatten", ["r"], ["f"], name="flatten"),
        helper.make_node("Gemm", ["f", "fw", "fb"], ["y"], name="fc", transB=1),
    ]
    base_inits = [weights("w", (2, 1, 3, 3), 1), weights("b", (2,), 2), weights("fw", (3, 32), 3),
                  weights("fb", (3,), 4)]
    graph = helper.make_graph(
        list(nodes if nodes is not None else base_nodes) + list(extra_nodes), "hostile",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, list(input_dims))],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 3])],
        initializer=list(initializers if initializers is not None else base_inits))
    return helper.make_model(graph, producer_name="kernelscope-hostile", opset_imports=[helper.make_opsetid("", 13)])


def write(name, model_or_bytes):
    data = model_or_bytes if isinstance(model_or_bytes, bytes) else model_or_bytes.SerializeToString()
    (OUT / name).write_bytes(data)
    print(f"{name}: {len(data)} bytes")


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    write("onnx-valid-small", network())

    exported = (DATA / "cnn_tiny.onnx").read_bytes()
    write("onnx-truncated", exported[: len(exported) // 2])

    # Raw data shorter than the dims claim.
    lying = numpy_helper.from_array(np.zeros(4, np.float32), "w")
    lying.ClearField("dims")
    lying.dims.extend([2, 1, 3, 3])
    write("onnx-lying-size", network(initializers=[lying, weights("b", (2,), 2), weights("fw", (3, 32), 3),
                                                    weights("fb", (3,), 4)]))

    # Dims whose product is astronomically large, with no data.
    huge = TensorProto(name="w", data_type=TensorProto.FLOAT, dims=[1 << 40, 1 << 40])
    write("onnx-huge-tensor", network(initializers=[huge, weights("b", (2,), 2), weights("fw", (3, 32), 3),
                                                     weights("fb", (3,), 4)]))

    # A negative dimension.
    negative = TensorProto(name="w", data_type=TensorProto.FLOAT, dims=[2, -1, 3, 3])
    write("onnx-negative-dim", network(initializers=[negative, weights("b", (2,), 2), weights("fw", (3, 32), 3),
                                                      weights("fb", (3,), 4)]))

    # Weights in an external file, with a path that climbs out of the model's folder.
    external = TensorProto(name="w", data_type=TensorProto.FLOAT, dims=[2, 1, 3, 3])
    external.data_location = TensorProto.EXTERNAL
    entry = external.external_data.add()
    entry.key, entry.value = "location", "../../../../etc/passwd"
    write("onnx-external-data", network(initializers=[external, weights("b", (2,), 2), weights("fw", (3, 32), 3),
                                                       weights("fb", (3,), 4)]))

    # An input of enormous images.
    write("onnx-huge-input", network(input_dims=("N", 1, 1 << 30, 1 << 30)))

    # A cycle: relu reads gemm's output, which depends on relu.
    write("onnx-cycle", network(nodes=[
        helper.make_node("Conv", ["x", "w", "b"], ["c"], name="conv"),
        helper.make_node("Add", ["c", "y"], ["r"], name="loop"),
        helper.make_node("Flatten", ["r"], ["f"], name="flatten"),
        helper.make_node("Gemm", ["f", "fw", "fb"], ["y"], name="fc", transB=1)]))

    # A node that reads a name nothing produces.
    write("onnx-dangling-input", network(nodes=[
        helper.make_node("Conv", ["x", "w", "b"], ["c"], name="conv"),
        helper.make_node("Relu", ["nowhere"], ["r"], name="relu"),
        helper.make_node("Flatten", ["r"], ["f"], name="flatten"),
        helper.make_node("Gemm", ["f", "fw", "fb"], ["y"], name="fc", transB=1)]))

    # Conv weights stored as integers: an initializer whose type disagrees with its use.
    ints = numpy_helper.from_array(np.ones((2, 1, 3, 3), np.int64), "w")
    write("onnx-int-weights", network(initializers=[ints, weights("b", (2,), 2), weights("fw", (3, 32), 3),
                                                     weights("fb", (3,), 4)]))

    # An operator KernelScope does not run.
    write("onnx-unsupported-op", network(nodes=[
        helper.make_node("Conv", ["x", "w", "b"], ["c"], name="conv"),
        helper.make_node("LpNormalization", ["c"], ["r"], name="norm"),
        helper.make_node("Flatten", ["r"], ["f"], name="flatten"),
        helper.make_node("Gemm", ["f", "fw", "fb"], ["y"], name="fc", transB=1)]))

    # A grouped convolution (2 groups of 1 channel on a 2-channel input).
    write("onnx-grouped-conv", network(nodes=[
        helper.make_node("Conv", ["x", "w", "b"], ["c"], name="conv", group=2),
        helper.make_node("Relu", ["c"], ["r"], name="relu"),
        helper.make_node("Flatten", ["r"], ["f"], name="flatten"),
        helper.make_node("Gemm", ["f", "fw", "fb"], ["y"], name="fc", transB=1)], input_dims=("N", 2, 6, 6)))

    # Weights whose shape does not fit the input (3 input channels for a 1-channel image).
    write("onnx-shape-mismatch", network(initializers=[weights("w", (2, 3, 3, 3), 1), weights("b", (2,), 2),
                                                        weights("fw", (3, 32), 3), weights("fb", (3,), 4)]))

    # A name produced twice.
    write("onnx-duplicate-output", network(extra_nodes=[helper.make_node("Relu", ["x"], ["c"], name="again")]))

    # A node of another operator domain.
    write("onnx-custom-domain", network(nodes=[
        helper.make_node("Conv", ["x", "w", "b"], ["c"], name="conv"),
        helper.make_node("FusedRelu", ["c"], ["r"], name="custom", domain="com.example"),
        helper.make_node("Flatten", ["r"], ["f"], name="flatten"),
        helper.make_node("Gemm", ["f", "fw", "fb"], ["y"], name="fc", transB=1)]))

    # A node name with terminal escapes and a newline (must come back escaped).
    write("onnx-escape-name", network(nodes=[
        helper.make_node("Conv", ["x", "w", "b"], ["c"], name="conv"),
        helper.make_node("Softsign", ["c"], ["r"], name="\x1b[31mred\nline"),
        helper.make_node("Flatten", ["r"], ["f"], name="flatten"),
        helper.make_node("Gemm", ["f", "fw", "fb"], ["y"], name="fc", transB=1)]))


if __name__ == "__main__":
    main()
