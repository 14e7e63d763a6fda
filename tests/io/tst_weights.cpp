// Weight files: fixtures written by the real torch.save / numpy.savez give the logits PyTorch
// computed; every malformed or hostile file is a clear WeightFileError, never a crash, a huge
// allocation or code execution.
#include <QTest>

#include "test_support.hpp"

#include <zlib.h>

#include <cmath>
#include <filesystem>

#include "allocation_guard.hpp"
#include "deflate_util.hpp"

#include "io/file_util.hpp"
#include "io/inflate.hpp"
#include "io/npy.hpp"
#include "io/weights.hpp"
#include "io/zip_archive.hpp"
#include "nn/model.hpp"

using namespace ks;
using namespace std::string_literals;

namespace {

const std::filesystem::path kData = std::filesystem::path(KS_TEST_SOURCE_DIR) / "data" / "weights";
/// Named hostile inputs, made by tests/fuzz/make_hostile_corpus.py with Python's zipfile (not our code).
const std::filesystem::path kHostile = std::filesystem::path(KS_TEST_SOURCE_DIR) / "fuzz" / "corpus" / "weights";

std::span<const std::byte> bytesOf(const std::string& s) { return std::as_bytes(std::span(s.data(), s.size())); }

/// A zip of stored entries (enough to wrap hand-made pickles the way torch.save does).
std::string storedZip(const std::vector<std::pair<std::string, std::string>>& entries) {
    auto le = [](std::string& out, std::uint64_t v, int bytes) {
        for (int i = 0; i < bytes; ++i) out += static_cast<char>((v >> (8 * i)) & 0xFF);
    };
    std::string out, directory;
    for (const auto& [name, data] : entries) {
        const std::uint32_t crc = io::crc32(bytesOf(data));
        const std::size_t offset = out.size();
        le(out, 0x04034b50, 4); le(out, 20, 2); le(out, 0, 2); le(out, 0, 2); le(out, 0, 4);
        le(out, crc, 4); le(out, data.size(), 4); le(out, data.size(), 4); le(out, name.size(), 2); le(out, 0, 2);
        out += name + data;
        le(directory, 0x02014b50, 4); le(directory, 20, 2); le(directory, 20, 2); le(directory, 0, 2);
        le(directory, 0, 2); le(directory, 0, 4); le(directory, crc, 4); le(directory, data.size(), 4);
        le(directory, data.size(), 4); le(directory, name.size(), 2); le(directory, 0, 2); le(directory, 0, 2);
        le(directory, 0, 2); le(directory, 0, 2); le(directory, 0, 4); le(directory, offset, 4);
        directory += name;
    }
    const std::size_t directoryOffset = out.size();
    out += directory;
    le(out, 0x06054b50, 4); le(out, 0, 2); le(out, 0, 2); le(out, entries.size(), 2); le(out, entries.size(), 2);
    le(out, directory.size(), 4); le(out, directoryOffset, 4); le(out, 0, 2);
    return out;
}

struct RawEntry {
    std::string name;
    std::string payload;             ///< the bytes stored in the archive (compressed ones for method 8)
    std::uint16_t method = 0;
    std::uint32_t crc = 0;
    std::uint64_t declaredSize = 0;  ///< the uncompressed size both headers claim
    std::uint64_t compressedClaim = UINT64_MAX;  ///< the compressed size they claim, if not the payload's
};

/// A zip of entries whose headers say exactly what the caller says, true or not.
std::string rawZip(const std::vector<RawEntry>& entries) {
    auto le = [](std::string& out, std::uint64_t v, int bytes) {
        for (int i = 0; i < bytes; ++i) out += static_cast<char>((v >> (8 * i)) & 0xFF);
    };
    std::string out, directory;
    for (const auto& e : entries) {
        const std::size_t offset = out.size();
        le(out, 0x04034b50, 4); le(out, 20, 2); le(out, 0, 2); le(out, e.method, 2); le(out, 0, 4);
        const std::uint64_t compressed = e.compressedClaim == UINT64_MAX ? e.payload.size() : e.compressedClaim;
        le(out, e.crc, 4); le(out, compressed, 4); le(out, e.declaredSize, 4); le(out, e.name.size(), 2);
        le(out, 0, 2);
        out += e.name + e.payload;
        le(directory, 0x02014b50, 4); le(directory, 20, 2); le(directory, 20, 2); le(directory, 0, 2);
        le(directory, e.method, 2); le(directory, 0, 4); le(directory, e.crc, 4); le(directory, compressed, 4);
        le(directory, e.declaredSize, 4); le(directory, e.name.size(), 2); le(directory, 0, 2); le(directory, 0, 2);
        le(directory, 0, 2); le(directory, 0, 2); le(directory, 0, 4); le(directory, offset, 4);
        directory += e.name;
    }
    const std::size_t directoryOffset = out.size();
    out += directory;
    le(out, 0x06054b50, 4); le(out, 0, 2); le(out, 0, 2); le(out, entries.size(), 2); le(out, entries.size(), 2);
    le(out, directory.size(), 4); le(out, directoryOffset, 4); le(out, 0, 2);
    return out;
}

/// The .npy header (format 1.0) of a float32 array of `count` elements, padded to 64 bytes as numpy does.
std::string npyHeader(std::uint64_t count) {
    std::string header = "{'descr': '<f4', 'fortran_order': False, 'shape': (" + std::to_string(count) + ",), }";
    header.append((64 - (10 + header.size() + 1) % 64) % 64, ' ');
    header += '\n';
    return std::string("\x93NUMPY\x01\x00", 8) + static_cast<char>(header.size() & 0xFF) +
           static_cast<char>(header.size() >> 8) + header;
}

/// zlib's raw DEFLATE of `data` as non-final blocks ending on a byte boundary (Z_SYNC_FLUSH), so that such
/// pieces, each compressed on its own, can follow one another in one stream.
std::string deflatePiece(const std::string& data) { return ks::test::deflateWith(data, -MAX_WBITS, Z_SYNC_FLUSH); }

/// Raw DEFLATE (as in a zip entry) of `head` followed by `megabytes` MiB of zeros, and its CRC-32: one MiB of
/// zeros compressed once and repeated (its first byte is a literal, the rest copies at distance 1, so it means
/// the same anywhere), then an empty final block; the CRC by zlib's crc32_combine. Nothing of the size it
/// inflates to is ever held or computed byte by byte.
std::pair<std::string, std::uint32_t> deflateWithZeros(const std::string& head, std::uint64_t megabytes) {
    const std::string zeros(1 << 20, '\0');
    const std::string piece = deflatePiece(zeros);
    std::string out = deflatePiece(head);
    uLong crc = crc32(0, reinterpret_cast<const Bytef*>(head.data()), static_cast<uInt>(head.size()));
    const uLong zerosCrc = crc32(0, reinterpret_cast<const Bytef*>(zeros.data()), static_cast<uInt>(zeros.size()));
    for (std::uint64_t i = 0; i < megabytes; ++i) {
        out += piece;
        crc = crc32_combine(crc, zerosCrc, static_cast<z_off_t>(zeros.size()));
    }
    out += std::string("\x03\x00", 2);  // a final fixed-Huffman block holding only its end code
    return {out, static_cast<std::uint32_t>(crc)};
}

/// A torch.save-like archive around a hand-made pickle, with one float32 storage "0" of `floats` values.
std::string checkpointWith(const std::string& pickle, std::size_t floats = 4) {
    return storedZip({{"ckpt/data.pkl", pickle}, {"ckpt/data/0", std::string(floats * 4, '\0')}, {"ckpt/version", "3\n"}});
}

/// Protocol-2 pickle of OrderedDict{"w": tensor(storage "0" of `numel`, offset, size, stride)}.
std::string tensorPickle(std::int32_t numel, std::int32_t offset, std::int32_t size, std::int32_t stride) {
    auto binint = [](std::int32_t v) {
        std::string s = "J";
        for (int i = 0; i < 4; ++i) s += static_cast<char>((static_cast<std::uint32_t>(v) >> (8 * i)) & 0xFF);
        return s;
    };
    auto str = [](const std::string& s) {
        std::string out = "X";
        for (int i = 0; i < 4; ++i) out += static_cast<char>((s.size() >> (8 * i)) & 0xFF);
        return out + s;
    };
    return std::string("\x80\x02") + "ccollections\nOrderedDict\n)R" + str("w") + "ctorch._utils\n_rebuild_tensor_v2\n(" +
           "(" + str("storage") + "ctorch\nFloatStorage\n" + str("0") + str("cpu") + binint(numel) + "tQ" +
           binint(offset) + "(" + binint(size) + "t(" + binint(stride) + "t\x89" + "ccollections\nOrderedDict\n)R" +
           "tR" + "s.";
}

void expectNear(const nn::MatrixF& got, const TensorF& expected, float tolerance) {
    QCOMPARE(got.rows(), expected.dim(0));
    QCOMPARE(got.cols(), expected.dim(1));
    for (Eigen::Index r = 0; r < got.rows(); ++r)
        for (Eigen::Index c = 0; c < got.cols(); ++c) {
            const float e = expected[static_cast<std::size_t>(r * got.cols() + c)];
            if (std::abs(got(r, c) - e) > tolerance)
                QFAIL(qPrintable(QString("(%1, %2): %3 vs PyTorch's %4").arg(r).arg(c).arg(got(r, c)).arg(e)));
        }
}

using ks::test::errorOf;

}  // namespace

class tst_Weights : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void fixturesGivePyTorchsLogits_data() {
        QTest::addColumn<QString>("file");
        QTest::addColumn<QString>("expected");
        QTest::addColumn<int>("format");
        QTest::addColumn<QString>("dtype");
        const int pt = int(io::WeightFormat::TorchCheckpoint);
        QTest::newRow("pt float32") << "tiny_mlp.pt" << "tiny_logp.npy" << pt << "float32";
        QTest::newRow("pt float64") << "tiny_mlp_f64.pt" << "tiny_logp.npy" << pt << "float64";
        QTest::newRow("pt float16") << "tiny_mlp_f16.pt" << "tiny_logp_f16.npy" << pt << "float16";
        QTest::newRow("pt module. prefix") << "tiny_mlp_module.pt" << "tiny_logp.npy" << pt << "float32";
        QTest::newRow("pt training checkpoint") << "tiny_mlp_checkpoint.pt" << "tiny_logp.npy" << pt << "float32";
        QTest::newRow("pt strided view") << "tiny_mlp_strided.pt" << "tiny_logp.npy" << pt << "float32";
        QTest::newRow("pt low-rank layer") << "tiny_mlp_lowrank.pt" << "tiny_lowrank_logp.npy" << pt << "float32";
        QTest::newRow("npz stored") << "tiny_mlp.npz" << "tiny_logp.npy" << int(io::WeightFormat::Npz) << "float32";
        QTest::newRow("npz deflate") << "tiny_mlp_compressed.npz" << "tiny_logp.npy" << int(io::WeightFormat::Npz)
                                     << "float32";
        QTest::newRow("safetensors") << "tiny_mlp.safetensors" << "tiny_logp.npy" << int(io::WeightFormat::Safetensors)
                                     << "float32";
    }
    void fixturesGivePyTorchsLogits() {
        QFETCH(QString, file);
        QFETCH(QString, expected);
        QFETCH(int, format);
        QFETCH(QString, dtype);
        const io::WeightSet set = io::readWeights(kData / file.toStdString());
        QCOMPARE(int(set.format), format);
        QCOMPARE(QString::fromStdString(set.tensors.front().storedDtype), dtype);
        const nn::Model model = nn::Model::fromWeights(set);
        QCOMPARE(model.inputFeatures(), 6);
        QCOMPARE(model.outputFeatures(), 3);
        const nn::MatrixF x = nn::toMatrix(io::readNpyFloat(kData / "tiny_inputs.npy"));
        expectNear(model.forward(x), io::readNpyFloat(kData / expected.toStdString()), 2e-6f);
    }

    void allFormatsHoldTheSameTensors() {
        const io::WeightSet pt = io::readWeights(kData / "tiny_mlp.pt");
        for (const char* other : {"tiny_mlp.npz", "tiny_mlp_compressed.npz", "tiny_mlp.safetensors", "tiny_mlp_f64.pt",
                                  "tiny_mlp_strided.pt", "tiny_mlp_module.pt"}) {
            const io::WeightSet set = io::readWeights(kData / other);
            QCOMPARE(set.tensors.size(), pt.tensors.size());
            for (std::size_t i = 0; i < pt.tensors.size(); ++i) {
                QCOMPARE(set.tensors[i].name, pt.tensors[i].name);
                QCOMPARE(set.tensors[i].tensor.shape(), pt.tensors[i].tensor.shape());
                QCOMPARE(ks::test::firstBitDifference<float>(set.tensors[i].tensor.storage(), pt.tensors[i].tensor.storage()),
                         std::ptrdiff_t{-1});
            }
        }
    }

    // A header of 0x180 bytes starts the file with 0x80, the pickle protocol opcode.
    void safetensorsWhoseLengthLooksLikePickle() {
        std::string header = R"({"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}})";
        header.resize(0x180, ' ');
        std::string file(8, '\0');
        file[0] = '\x80';
        file[1] = '\x01';
        file += header;
        const float one = 1.0f;
        file.append(reinterpret_cast<const char*>(&one), 4);
        const io::WeightSet set = io::parseWeights(std::as_bytes(std::span(file.data(), file.size())), "x.safetensors");
        QCOMPARE(set.tensors.size(), std::size_t{1});
        QVERIFY(set.format == io::WeightFormat::Safetensors);
    }

    void safetensorsRoundTrip() {
        const io::WeightSet pt = io::readWeights(kData / "tiny_mlp.pt");
        const std::string bytes = io::serializeSafetensors(pt.tensors, {{"note", "a \"quoted\" value"}});
        QCOMPARE(bytes.substr(0, 8).size(), std::size_t{8});
        const io::WeightSet back = io::parseWeights(bytesOf(bytes), "round trip");
        QCOMPARE(int(back.format), int(io::WeightFormat::Safetensors));
        QCOMPARE(back.tensors.size(), pt.tensors.size());
        for (std::size_t i = 0; i < pt.tensors.size(); ++i) {
            QCOMPARE(back.tensors[i].name, pt.tensors[i].name);
            QCOMPARE(ks::test::firstBitDifference<float>(back.tensors[i].tensor.storage(), pt.tensors[i].tensor.storage()),
                     std::ptrdiff_t{-1});
        }
        // The data starts 8-byte aligned, as the format recommends.
        std::uint64_t header = 0;
        for (int i = 0; i < 8; ++i) header |= std::uint64_t(static_cast<unsigned char>(bytes[std::size_t(i)])) << (8 * i);
        QCOMPARE((8 + header) % 8, std::uint64_t{0});
    }

    void halfConversionIsExact() {
        // Bit for bit (QCOMPARE on float would accept a flushed subnormal as "both tiny"). Expected values are
        // written as hex floats from IEEE 754's binary16 definition, not computed by the code under test.
        KS_COMPARE_EXACT(io::halfToFloat(0x3C00), 1.0f);
        KS_COMPARE_EXACT(io::halfToFloat(0xC000), -2.0f);
        KS_COMPARE_EXACT(io::halfToFloat(0x7BFF), 65504.0f);
        KS_COMPARE_EXACT(io::halfToFloat(0x0001), 0x1p-24f);       // smallest subnormal
        KS_COMPARE_EXACT(io::halfToFloat(0x03FF), 0x1.ff8p-15f);   // largest subnormal
        KS_COMPARE_EXACT(io::halfToFloat(0x0400), 0x1p-14f);       // smallest normal
        KS_COMPARE_EXACT(io::halfToFloat(0x8001), -0x1p-24f);
        KS_COMPARE_EXACT(io::halfToFloat(0x8000), -0.0f);
        KS_COMPARE_EXACT(io::halfToFloat(0x0000), 0.0f);
        KS_COMPARE_EXACT(io::halfToFloat(0x3555), 0x1.554p-2f);    // 0.333251953125
        KS_COMPARE_EXACT(io::halfToFloat(0x7C00), std::numeric_limits<float>::infinity());
        KS_COMPARE_EXACT(io::halfToFloat(0xFC00), -std::numeric_limits<float>::infinity());
        QVERIFY(std::isnan(io::halfToFloat(0x7E00)));
        QVERIFY(std::isnan(io::halfToFloat(0x7C01)));
        KS_COMPARE_EXACT(io::bfloat16ToFloat(0x3F80), 1.0f);
        KS_COMPARE_EXACT(io::bfloat16ToFloat(0xC0A0), -5.0f);
        KS_COMPARE_EXACT(io::bfloat16ToFloat(0x0001), 0x1p-133f);  // bfloat16's smallest subnormal
        KS_COMPARE_EXACT(io::bfloat16ToFloat(0x8000), -0.0f);
    }

    void refusesGlobalsAndNeverRunsThem() {
        std::filesystem::remove("/tmp/kernelscope-pwned");
        const QString error = errorOf([] { io::readWeights(kData / "evil_global.pt"); });
        QVERIFY2(error.contains("refuses to load global") && error.contains("system"), qPrintable(error));
        QVERIFY(!std::filesystem::exists("/tmp/kernelscope-pwned"));
    }

    void unsupportedNetworkListsTheTensors() {
        const QString error = errorOf([] { nn::Model::fromWeights(io::readWeights(kData / "conv_net.pt")); });
        QVERIFY2(error.contains("conv1.weight") && error.contains("(2, 1, 3, 3)") && error.contains("fc1.bias"),
                 qPrintable(error));
    }

    void hostileFiles_data() {
        QTest::addColumn<QByteArray>("bytes");
        QTest::addColumn<QString>("expected");
        auto row = [](const char* name, const std::string& bytes, const char* expected) {
            QTest::newRow(name) << QByteArray(bytes.data(), qsizetype(bytes.size())) << QString(expected);
        };
        row("empty", "", "not a recognised");
        row("text", "hello world, not weights", "not a recognised");
        row("legacy pickle", "\x80\x02}q\x00."s, "legacy");
        // Pickles inside a torch.save-like zip.
        row("unknown opcode", checkpointWith("\x80\x02}\xff."), "unsupported pickle opcode 0xff");
        row("no STOP", checkpointWith("\x80\x02}"), "truncated");
        row("lying string length", checkpointWith(std::string("\x80\x02X\xff\xff\xff\x7f" "abc.", 10)), "runs past the end");
        row("stack underflow", checkpointWith("\x80\x02t."), "no MARK");
        row("tuple underflow", checkpointWith("\x80\x02\x86."), "underflow");
        row("deep nesting", checkpointWith("\x80\x02" + std::string(100000, '(') + "."), "too many marks");
        row("huge memo index", checkpointWith(std::string("\x80\x02}r\xff\xff\xff\x7f.", 9)), "memo index");
        row("memo never stored", checkpointWith("\x80\x02h\x05."), "never stored");
        row("self-referencing list", checkpointWith("\x80\x02]q\x00h\x00" "a."s), "not a state_dict");
        row("exec global", checkpointWith("\x80\x02" "cbuiltins\nexec\n."), "refuses to load global 'builtins.exec'");
        row("stack global", checkpointWith("\x80\x02X\x02\x00\x00\x00osX\x06\x00\x00\x00system\x93."s), "'os.system'");
        row("reduce on a non-callable", checkpointWith("\x80\x02})R."), "REDUCE calls a dict");
        row("storage larger than its entry", checkpointWith(tensorPickle(1000000, 0, 4, 1), 4), "claims 1000000 elements");
        row("offset outside storage", checkpointWith(tensorPickle(4, 9, 1, 1), 4), "outside its storage");
        row("view outside storage", checkpointWith(tensorPickle(4, 0, 4, 2), 4), "reaches element 6, outside its storage of 4");
        row("huge tensor", checkpointWith(tensorPickle(4, 0, 0x7fffffff, 0), 4), "too large");
        row("broadcast view of a tiny storage", checkpointWith(tensorPickle(4, 0, 1000000, 0), 4), "elements from a storage of 4");
        row("missing storage", storedZip({{"c/data.pkl", tensorPickle(4, 0, 4, 1)}}), "missing from the archive");
        row("no data.pkl", storedZip({{"c/other.pkl", "x"}}), "not an .npy");
        // safetensors headers.
        auto st = [](const std::string& header, std::size_t dataBytes) {
            std::string out;
            for (int i = 0; i < 8; ++i) out += static_cast<char>((header.size() >> (8 * i)) & 0xFF);
            return out + header + std::string(dataBytes, '\0');
        };
        row("safetensors offsets outside", st(R"({"w":{"dtype":"F32","shape":[2],"data_offsets":[0,800]}})", 8), "outside");
        row("safetensors size mismatch", st(R"({"w":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}})", 8), "needs 12");
        row("safetensors dtype", st(R"({"w":{"dtype":"I64","shape":[1],"data_offsets":[0,8]}})", 8), "dtype I64");
        row("safetensors deep json", st("{\"w\":" + std::string(5000, '[') + std::string(5000, ']') + "}", 0), "nested deeper than a header can be");
        row("safetensors huge shape", st(R"({"w":{"dtype":"F32","shape":[100000,100000],"data_offsets":[0,8]}})", 8), "too large");
        row("safetensors bad json", st(R"({"w":{"dtype":"F32",)", 8), "not valid JSON");
        std::string lying = st(R"({"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}})", 4);
        lying[6] = '\x7f';  // header length ~ 2^55
        row("safetensors lying header length", lying, "more than the 16777216 bytes a header may have");
        row("safetensors truncated in its data", st(R"({"w":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}})", 9),
            "outside the 9 bytes of data (is the file truncated?)");
        row("safetensors negative offset", st(R"({"w":{"dtype":"F32","shape":[1],"data_offsets":[-4,0]}})", 4),
            "not non-negative integers");
        row("safetensors overlap, third tensor", st(R"({"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]},)"
                                                    R"("b":{"dtype":"F32","shape":[1],"data_offsets":[16,20]},)"
                                                    R"("c":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}})", 20),
            "tensors 'a' [0, 16) and 'c' [8, 12) overlap");
        // A name from the file reaches the message escaped: no terminal escape sequence gets through.
        row("safetensors name with escapes", st(R"({"\u001b[2J\u001b]0;owned\u0007":{"dtype":"I8","shape":[1],"data_offsets":[0,1]}})", 1),
            "tensor '\\x1b[2J\\x1b]0;owned\\x07' has dtype I8");
        // Named hostile files (tests/fuzz/make_hostile_corpus.py): each failed, or had no test, before issue 14.
        auto file = [](const char* name) { return io::readFile(kHostile / name); };
        row("overlapping offsets", file("safetensors-overlapping-offsets"), "tensors 'a' [0, 8) and 'b' [4, 12) overlap");
        row("truncated in the header", file("safetensors-truncated-in-header"), "truncated: the safetensors header claims 55 bytes");
        row("header length 2^63", file("safetensors-header-length-2e63"), "header length 9223372036854775808 is more than");
        row("tensor described twice", file("safetensors-duplicate-tensor"), "has the key 'w' twice");
        row("encrypted zip entry", file("npz-encrypted-entry"), "entry 'w.npy' is encrypted");
        row("bzip2 zip entry", file("npz-bzip2-entry"), "entry 'w.npy' uses compression method 12");
        row("storage of 2^60 elements", file("pt-storage-numel-2e60"),
            "entry 'c/data/0' claims 4611686018427387904 bytes from");
    }
    void hostileFiles() {
        QFETCH(QByteArray, bytes);
        QFETCH(QString, expected);
        const std::string data(bytes.constData(), std::size_t(bytes.size()));
        const ks::test::AllocationGuard guard(std::size_t{64} << 20);  // the files are small; so must be what they cost
        const QString error = errorOf([&] { io::parseWeights(bytesOf(data), "hostile"); });
        QVERIFY2(error.startsWith("hostile: ") && error.contains(expected), qPrintable("got: " + error));
        QVERIFY2(!error.contains(QChar(0x1b)) && !error.contains(QChar(0x07)), qPrintable(error));
        QCOMPARE(guard.largestRefused(), std::size_t{0});
    }

    /// Python's zipfile writing zip64 records and extra fields throughout (make_hostile_corpus.py): libzip reads them.
    void zip64ArchiveLoads() {
        const io::WeightSet set = io::readWeights(kHostile / "npz-zip64");
        QCOMPARE(set.tensors.size(), std::size_t{1});
        QCOMPARE(set.tensors[0].name, std::string("w"));
        QCOMPARE(set.tensors[0].tensor.shape(), (Shape{2, 2}));
        const float expected[] = {1.5f, -2.0f, 0.25f, 3.0f};  // as the script wrote them
        for (std::size_t i = 0; i < 4; ++i) KS_COMPARE_EXACT(set.tensors[0].tensor[i], expected[i]);
    }

    /// A 1 MB .npz holding one deflated 1 GiB .npy (a true DEFLATE stream, 1030:1): refused from its headers
    /// before anything near its size is allocated, and before any inflating.
    void npzBombIsRefusedBeforeAllocating() {
        // The stream is what it claims: zlib inflates a small one of the same make to the same bytes.
        {
            const auto [small, smallCrc] = deflateWithZeros("head", 3);
            const std::string plain = "head" + std::string(3 << 20, '\0');
            std::string back(plain.size() + 1, 'x');
            z_stream z{};
            QCOMPARE(inflateInit2(&z, -MAX_WBITS), Z_OK);
            z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(small.data()));
            z.avail_in = static_cast<uInt>(small.size());
            z.next_out = reinterpret_cast<Bytef*>(back.data());
            z.avail_out = static_cast<uInt>(back.size());
            QCOMPARE(inflate(&z, Z_FINISH), Z_STREAM_END);
            inflateEnd(&z);
            QCOMPARE(back.substr(0, back.size() - z.avail_out), plain);
            QCOMPARE(smallCrc, io::crc32(bytesOf(plain)));
        }
        const std::uint64_t elements = std::uint64_t{1} << 28;  // 1 GiB of float32
        const std::string head = npyHeader(elements);
        const auto [compressed, crc] = deflateWithZeros(head, elements * 4 >> 20);
        QVERIFY(!compressed.empty() && compressed.size() < (std::size_t{2} << 20));
        const std::string npz = rawZip({{"w.npy", compressed, 8, crc, head.size() + elements * 4}});
        const ks::test::AllocationGuard guard(std::size_t{64} << 20);
        const QString error = errorOf([&] { io::parseWeights(bytesOf(npz), "bomb.npz"); });
        QVERIFY2(error.contains("would inflate to 1073741952 bytes, more than the 268435456 bytes allowed"),
                 qPrintable(error));
        QCOMPARE(guard.largestRefused(), std::size_t{0});
    }

    /// Three entries of 100 MiB each, each within the budget: together they are refused before the first is read.
    void npzEntriesAddUpToTheBudget() {
        std::vector<RawEntry> entries;
        for (const char* name : {"a.npy", "b.npy", "c.npy"})
            entries.push_back({name, std::string(102400, 'x'), 8, 0, std::uint64_t{100} << 20});  // never inflated
        const std::string npz = rawZip(entries);
        const ks::test::AllocationGuard guard(std::size_t{16} << 20);
        const QString error = errorOf([&] { io::parseWeights(bytesOf(npz), "three.npz"); });
        QVERIFY2(error.contains("would inflate to 314572800 bytes, more than the 268435456"), qPrintable(error));
        QCOMPARE(guard.largestRefused(), std::size_t{0});
    }

    /// Sizes and CRCs are checked against the data: a stored entry whose CRC or size lies is refused.
    void zipEntryChecks() {
        const std::string data = npyHeader(1) + std::string(4, '\0');
        const std::uint32_t crc = io::crc32(bytesOf(data));
        const io::WeightSet good = io::parseWeights(bytesOf(rawZip({{"w.npy", data, 0, crc, data.size()}})), "ok");
        QCOMPARE(good.tensors.size(), std::size_t{1});
        const QString badCrc = errorOf([&] { io::parseWeights(bytesOf(rawZip({{"w.npy", data, 0, crc ^ 1, data.size()}})), "z"); });
        QVERIFY2(badCrc.contains("entry 'w.npy' is corrupt") && badCrc.contains("CRC"), qPrintable(badCrc));
        const QString badSize = errorOf([&] { io::parseWeights(bytesOf(rawZip({{"w.npy", data, 0, crc, data.size() + 4}})), "z"); });
        QVERIFY2(badSize.contains("sizes differ"), qPrintable(badSize));
        // A stored entry claiming 4 GB in a file of 300 bytes: refused before 4 GB are asked for.
        const ks::test::AllocationGuard guard(std::size_t{16} << 20);
        const QString huge = errorOf([&] {
            io::parseWeights(bytesOf(rawZip({{"w.npy", data, 0, crc, 0xF0000000u, 0xF0000000u}})), "z");
        });
        // libzip finds the entry's bytes past the end (ZipArchive checks it again before allocating).
        QVERIFY2(huge.startsWith("z: not a readable zip archive") || huge.contains("claims 4026531840 compressed bytes"),
                 qPrintable(huge));
        QCOMPARE(guard.largestRefused(), std::size_t{0});
    }

    void deflateBombIsRefusedBeforeAllocating() {
        std::string npz = io::readFile(kData / "tiny_mlp_compressed.npz");
        // Make the first entry claim 4 GB uncompressed, in its central and its local header alike.
        const auto central = npz.find("PK\x01\x02");
        const auto local = npz.find("PK\x03\x04");
        QVERIFY(central != std::string::npos && local != std::string::npos);
        for (int i = 0; i < 4; ++i) npz[central + 24 + std::size_t(i)] = npz[local + 22 + std::size_t(i)] = '\xfe';
        const QString error = errorOf([&] { io::parseWeights(bytesOf(npz), "bomb.npz"); });
        QVERIFY2(error.contains("more than DEFLATE can encode"), qPrintable(error));
    }

    /// Every prefix of every fixture is an error (a truncated zip loses its directory, a truncated
    /// safetensors its data), never a crash: run under the sanitizer build this is the real check.
    void truncatedFilesAreErrors() {
        for (const char* file : {"tiny_mlp.pt", "tiny_mlp_compressed.npz", "tiny_mlp.safetensors", "tiny_mlp_f16.pt"}) {
            const std::string full = io::readFile(kData / file);
            for (std::size_t length = 0; length < full.size(); ++length) {
                const std::string part = full.substr(0, length);
                bool failed = false;
                try {
                    io::parseWeights(bytesOf(part), file);
                } catch (const io::WeightFileError&) {
                    failed = true;
                }
                if (!failed) QFAIL(qPrintable(QString("%1 truncated to %2 bytes loaded").arg(file).arg(length)));
            }
        }
    }

    /// Flipping any single byte: an error or a load, never a crash; flips inside tensor data are
    /// caught by the zip CRC.
    void corruptedBytes() {
        const std::string original = io::readFile(kData / "tiny_mlp.pt");
        const io::ZipArchive zip(bytesOf(original), "tiny_mlp.pt");
        const io::ZipEntry* data = zip.find("tiny_mlp/data/0");
        QVERIFY(data);
        // Where its bytes are, from its local header (APPNOTE 4.3.7: 30 bytes, then the name and extra field).
        const std::size_t local = original.find("tiny_mlp/data/0") - 30;  // the local header comes first
        QCOMPARE(original.compare(local, 4, "PK\x03\x04"), 0);
        const std::size_t extraLength = static_cast<unsigned char>(original[local + 28]) |
                                        static_cast<std::size_t>(static_cast<unsigned char>(original[local + 29])) << 8;
        const std::size_t dataOffset = local + 30 + data->name.size() + extraLength;
        int errors = 0;
        for (std::size_t i = 0; i < original.size(); ++i) {
            std::string bad = original;
            bad[i] = static_cast<char>(bad[i] ^ 0x5A);
            try {
                nn::Model::fromWeights(io::parseWeights(bytesOf(bad), "flipped"));
            } catch (const std::exception&) {
                ++errors;
                continue;
            }
            if (i >= dataOffset && i < dataOffset + data->compressedSize)
                QFAIL(qPrintable(QString("flipped tensor byte %1 not detected").arg(i)));
        }
        QVERIFY(errors > 0);
    }
};

QTEST_APPLESS_MAIN(tst_Weights)
#include "tst_weights.moc"
