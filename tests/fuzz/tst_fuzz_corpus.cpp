// The fuzz corpus in every build, CI's ASan + UBSan build included: each kept input replayed through
// its fuzz entry point (fuzz_inputs.hpp), then seeded random mutations of the corpus for a fixed
// time. libFuzzer's coverage-guided runs (clang, by hand: README.md here) find the inputs; this test
// keeps them found and keeps hitting their neighbourhood on every commit.
// Every input, kept or mutated, must end in a result or the readers' documented error (fuzz_inputs.hpp),
// with no single allocation above 512 MiB (allocation_guard.hpp) and a message that is safe to print;
// each kept input must also end as expected_outcomes.txt says (loaded, or refused saying what).
// A sanitizer report during the mutation pass writes the offending input to
// fuzz-crash-<target>-<iteration>.bin in the working directory (the build's tests/fuzz/).
#include <QTest>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <random>
#include <string>
#include <vector>

#include <map>
#include <typeinfo>

#include "allocation_guard.hpp"
#include "fuzz_inputs.hpp"

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/common_interface_defs.h>
#define KS_HAVE_SANITIZER_DEATH_CALLBACK 1
// malloc'ed memory (libzip's, zlib's) under the same budget as operator new's: above it, ASan reports
// and stops, and the death callback saves the input.
extern "C" const char* __asan_default_options() { return "max_allocation_size_mb=512"; }
#endif

namespace fs = std::filesystem;
using Bytes = std::vector<std::byte>;
using EntryPoint = ks::fuzz::Outcome (*)(std::span<const std::byte>);

Q_DECLARE_METATYPE(EntryPoint)

namespace {

const fs::path kTests = KS_TEST_SOURCE_DIR;

struct Target {
    const char* name;
    EntryPoint entry;
    std::vector<fs::path> corpusDirs;
};

const std::vector<Target>& targets() {
    static const std::vector<Target> all = {
        {"weights", &ks::fuzz::weightsInput, {kTests / "fuzz/corpus/weights", kTests / "data/weights"}},
        {"idx", &ks::fuzz::idxInput, {kTests / "fuzz/corpus/idx"}},
        {"onnx", &ks::fuzz::onnxInput, {kTests / "fuzz/corpus/onnx", kTests / "data/onnx"}},
    };
    return all;
}

Bytes readFile(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    const std::vector<char> chars{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
    Bytes bytes(chars.size());
    std::transform(chars.begin(), chars.end(), bytes.begin(), [](char c) { return std::byte(c); });
    return bytes;
}

std::vector<fs::path> corpusFiles(const Target& target) {
    std::vector<fs::path> files;
    for (const auto& dir : target.corpusDirs)
        for (const auto& entry : fs::directory_iterator(dir))
            if (entry.is_regular_file() && entry.path().extension() != ".md") files.push_back(entry.path());
    std::sort(files.begin(), files.end());
    return files;
}

/// Runs one input and returns what is wrong with how it ended ("" if nothing): an exception other than the
/// documented error, an allocation above the budget, or an error message that does not name the input or
/// holds control characters (names from the file must be escaped). `outcome` receives the result.
std::string runChecked(EntryPoint entry, const Bytes& input, ks::fuzz::Outcome& outcome) {
    ks::test::AllocationGuard guard;
    std::string problem;
    try {
        outcome = entry(input);
    } catch (const std::bad_alloc&) {
        problem = "std::bad_alloc escaped the reader";
    } catch (const std::exception& e) {
        problem = std::string("an undocumented exception escaped the reader: ") + typeid(e).name() + ": " + e.what();
    } catch (...) {
        problem = "a non-std exception escaped the reader";
    }
    if (guard.largestRefused() != 0)
        problem += (problem.empty() ? "" : "; ") + std::string("it asked for ") + std::to_string(guard.largestRefused()) +
                   " bytes at once, above the " + std::to_string(ks::test::kAllocationBudget) + "-byte budget";
    if (problem.empty() && !outcome.loaded) {
        if (outcome.error.rfind("fuzz", 0) != 0) problem = "its error does not name the input: " + outcome.error;
        for (const char c : outcome.error)
            if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
                problem = "its error holds a raw control character: " + outcome.error;
                break;
            }
    }
    return problem;
}

/// expected_outcomes.txt: "<target>/<file> loaded" or "<target>/<file> refused [text the error contains]".
struct Expectation {
    bool loaded = false;
    std::string errorContains;
};
const std::map<std::string, Expectation>& expectations() {
    static const std::map<std::string, Expectation> all = [] {
        std::map<std::string, Expectation> m;
        std::ifstream in(kTests / "fuzz/expected_outcomes.txt");
        std::string line;
        while (std::getline(in, line)) {
            if (line.empty() || line[0] == '#') continue;
            const auto space = line.find(' ');
            const auto second = line.find(' ', space + 1);
            const std::string verdict = line.substr(space + 1, second == std::string::npos ? std::string::npos : second - space - 1);
            m[line.substr(0, space)] = {verdict == "loaded", second == std::string::npos ? "" : line.substr(second + 1)};
        }
        return m;
    }();
    return all;
}

/// Seconds of mutations per target: KS_FUZZ_SECONDS, else longer where the sanitizers watch.
double mutationSeconds() {
    if (const char* env = std::getenv("KS_FUZZ_SECONDS")) return std::atof(env);
#ifdef KS_SANITIZE
    return 30.0;
#else
    return 8.0;
#endif
}

/// One to four of the mutations that break readers: flipped bits, boundary bytes, lying 32/64-bit
/// sizes, truncation, deleted, inserted or duplicated chunks, and splices with another input.
class Mutator {
public:
    Mutator(std::uint64_t seed, const std::vector<Bytes>& corpus) : rng_(seed), corpus_(corpus) {}

    Bytes next() {
        Bytes b = corpus_[pick(corpus_.size())];
        const int count = 1 + static_cast<int>(pick(4));
        for (int i = 0; i < count; ++i) mutate(b);
        return b;
    }

private:
    std::size_t pick(std::size_t n) { return n == 0 ? 0 : std::uniform_int_distribution<std::size_t>(0, n - 1)(rng_); }

    void writeInteger(Bytes& b, std::uint64_t value, std::size_t width) {
        if (b.size() < width) return;
        const std::size_t at = pick(b.size() - width + 1);
        for (std::size_t i = 0; i < width; ++i) b[at + i] = std::byte((value >> (8 * i)) & 0xFF);  // little-endian
    }

    void mutate(Bytes& b) {
        static constexpr std::array<std::uint64_t, 9> kInteresting = {
            0, 1, 0x7F, 0x80, 0xFF, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFF, 0x7FFFFFFFFFFFFFFF};
        switch (pick(8)) {
            case 0:
                if (!b.empty()) b[pick(b.size())] ^= std::byte(1u << pick(8));
                break;
            case 1:
                if (!b.empty()) b[pick(b.size())] = std::byte(kInteresting[pick(5)] & 0xFF);
                break;
            case 2: writeInteger(b, kInteresting[pick(kInteresting.size())] + pick(3), pick(2) ? 4 : 8); break;
            case 3: writeInteger(b, b.size() + pick(64), pick(2) ? 4 : 8); break;  // a size just past the end
            case 4: b.resize(pick(b.size() + 1)); break;
            case 5:
                if (!b.empty()) {
                    const std::size_t at = pick(b.size()), len = std::min(b.size() - at, 1 + pick(64));
                    b.erase(b.begin() + std::ptrdiff_t(at), b.begin() + std::ptrdiff_t(at + len));
                }
                break;
            case 6: {
                const std::size_t at = pick(b.size() + 1), len = 1 + pick(16);
                Bytes chunk(len);
                for (auto& x : chunk) x = std::byte(pick(256));
                b.insert(b.begin() + std::ptrdiff_t(at), chunk.begin(), chunk.end());
                break;
            }
            default: {  // splice: our head, another input's tail
                const Bytes& other = corpus_[pick(corpus_.size())];
                const std::size_t cut = pick(b.size() + 1), from = pick(other.size() + 1);
                b.resize(cut);
                b.insert(b.end(), other.begin() + std::ptrdiff_t(from), other.end());
                break;
            }
        }
        if (b.size() > (1u << 20)) b.resize(1u << 20);
    }

    std::mt19937_64 rng_;
    const std::vector<Bytes>& corpus_;
};

// The input being run, for the sanitizer's death callback.
const Bytes* g_current = nullptr;
std::string g_crashFile;

#ifdef KS_HAVE_SANITIZER_DEATH_CALLBACK
void saveCurrentInput() {
    if (!g_current) return;
    if (std::FILE* f = std::fopen(g_crashFile.c_str(), "wb")) {
        std::fwrite(g_current->data(), 1, g_current->size(), f);
        std::fclose(f);
        std::fprintf(stderr, "tst_fuzz_corpus: the failing input is saved as %s\n", g_crashFile.c_str());
    }
}
#endif

}  // namespace

class TestFuzzCorpus : public QObject {
    Q_OBJECT

private slots:
    void initTestCase() {
#ifdef KS_HAVE_SANITIZER_DEATH_CALLBACK
        __sanitizer_set_death_callback(&saveCurrentInput);
#endif
        for (const auto& target : targets()) QVERIFY2(!corpusFiles(target).empty(), target.name);
        QVERIFY2(!expectations().empty(), "tests/fuzz/expected_outcomes.txt is missing or empty");
    }

    // Every kept input: the findings of past runs stay fixed.
    void replay_data() {
        QTest::addColumn<EntryPoint>("entry");
        QTest::addColumn<QString>("path");
        QTest::addColumn<QString>("key");
        for (const auto& target : targets())
            for (const auto& file : corpusFiles(target)) {
                const std::string key = std::string(target.name) + "/" + file.filename().string();
                QTest::addRow("%s", key.c_str())
                    << target.entry << QString::fromStdString(file.string()) << QString::fromStdString(key);
            }
    }
    void replay() {
        QFETCH(EntryPoint, entry);
        QFETCH(QString, path);
        QFETCH(QString, key);
        const Bytes bytes = readFile(path.toStdString());
        ks::fuzz::Outcome outcome;
        const std::string problem = runChecked(entry, bytes, outcome);
        QVERIFY2(problem.empty(), problem.c_str());
        const auto expected = expectations().find(key.toStdString());
        QVERIFY2(expected != expectations().end(),
                 qPrintable("not in tests/fuzz/expected_outcomes.txt: " + key + (outcome.loaded ? " loaded" : " refused: ") +
                            QString::fromStdString(outcome.error)));
        QVERIFY2(outcome.loaded == expected->second.loaded,
                 qPrintable(outcome.loaded ? QString("loaded, expected refused") : "refused, expected loaded: " + QString::fromStdString(outcome.error)));
        QVERIFY2(outcome.error.find(expected->second.errorContains) != std::string::npos,
                 qPrintable(QString::fromStdString("error lacks '" + expected->second.errorContains + "': " + outcome.error)));
    }

    void mutations_data() {
        QTest::addColumn<int>("targetIndex");
        for (std::size_t i = 0; i < targets().size(); ++i) QTest::addRow("%s", targets()[i].name) << int(i);
    }
    void mutations() {
        QFETCH(int, targetIndex);
        const Target& target = targets()[std::size_t(targetIndex)];
        std::vector<Bytes> corpus;
        for (const auto& file : corpusFiles(target)) corpus.push_back(readFile(file));
        Mutator mutator(0x6b73 + std::uint64_t(targetIndex), corpus);
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(mutationSeconds());
        std::int64_t iterations = 0;
        while (std::chrono::steady_clock::now() < deadline) {
            const Bytes input = mutator.next();
            g_crashFile = "fuzz-crash-" + std::string(target.name) + "-" + std::to_string(iterations) + ".bin";
            g_current = &input;
            ks::fuzz::Outcome outcome;
            const std::string problem = runChecked(target.entry, input, outcome);
            g_current = nullptr;
            if (!problem.empty()) {
                if (std::FILE* f = std::fopen(g_crashFile.c_str(), "wb")) {
                    std::fwrite(input.data(), 1, input.size(), f);
                    std::fclose(f);
                }
                QFAIL(qPrintable(QString::fromStdString("mutated input " + g_crashFile + ": " + problem)));
            }
            ++iterations;
        }
        qInfo("%s: %lld mutated inputs in %.0f s, no finding", target.name, static_cast<long long>(iterations),
              mutationSeconds());
        QVERIFY(iterations > 0);
    }
};

QTEST_GUILESS_MAIN(TestFuzzCorpus)
#include "tst_fuzz_corpus.moc"
