// The float32-lane engine's one claim that random data cannot settle: an addition or multiplication of
// two fp16 (or bf16) values done in float32 and rounded again to fp16 (bf16) is the correctly rounded
// result, for all 2^32 operand pairs, subnormals, overflow, infinities and NaN included (Figueroa's
// 24 ≥ 2p + 2, and bf16's products that underflow float32, lane_rounding.cpp).
// The lanes' rounding (laneRound, the kernels' own roundTo) is checked against:
//   fp16: the double result (exact for both operations) converted by libgcc's double → _Float16
//         (__truncdfhf2, one correct rounding; no code of ours);
//   bf16: the double result (exact for products; for sums innocuous, 53 ≥ 2·8 + 2) rounded by the
//         reference Rounder.
// Every pair in the widest instruction set the CPU has, every 16th first operand in the generic one.
// Under KS_SANITIZE every 61st first operand only.
#include <QTest>

#include <algorithm>
#include <atomic>
#include <bit>
#include <cmath>
#include <cstdint>
#include <thread>
#include <vector>

#include "base/isa.hpp"
#include "test_support.hpp"
#include "matmul/emulated_gemm.hpp"
#include "numeric/format.hpp"
#include "numeric/round.hpp"

using namespace ks;

namespace {

#ifdef KS_SANITIZE
constexpr std::uint32_t kStride = 61;
#else
constexpr std::uint32_t kStride = 1;
#endif
constexpr std::uint32_t kGenericStride = 16;

using ks::test::sameResult;

float decodeFp16(std::uint32_t code) {
    return static_cast<float>(std::bit_cast<_Float16>(static_cast<std::uint16_t>(code)));
}
float decodeBf16(std::uint32_t code) { return std::bit_cast<float>(code << 16); }

struct Mismatch {
    std::atomic<std::uint64_t> count{0};
    std::atomic<std::uint32_t> first{0xffffffffu};  // a << 16 | b
};

}  // namespace

class tst_LaneExhaustive : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void everyPair_data() {
        QTest::addColumn<QString>("format");
        QTest::addColumn<bool>("multiply");
        QTest::newRow("fp16 add") << "fp16" << false;
        QTest::newRow("fp16 mul") << "fp16" << true;
        QTest::newRow("bf16 add") << "bf16" << false;
        QTest::newRow("bf16 mul") << "bf16" << true;
    }
    void everyPair() {
        QFETCH(QString, format);
        QFETCH(bool, multiply);
        const numeric::Format f = numeric::parseFormat(format.toStdString());
        const bool fp16 = format == QLatin1String("fp16");
        const numeric::Rounder reference(f, numeric::Rounding::NearestEven);
        std::vector<float> operands(1u << 16);
        for (std::uint32_t c = 0; c < operands.size(); ++c) operands[c] = fp16 ? decodeFp16(c) : decodeBf16(c);
        Mismatch mismatch;
        std::atomic<std::uint32_t> next{0};
        const unsigned threads = std::max(1u, std::thread::hardware_concurrency());
        std::vector<std::thread> pool;
        for (unsigned t = 0; t < threads; ++t)
            pool.emplace_back([&] {
                std::vector<float> results(operands.size()), rounded(operands.size()), generic(operands.size());
                for (std::uint32_t a; (a = next.fetch_add(kStride)) < operands.size();) {
                    const float x = operands[a];
                    for (std::size_t b = 0; b < operands.size(); ++b)
                        results[b] = multiply ? x * operands[b] : x + operands[b];
                    matmul::laneRound(f, results.data(), rounded.data(), std::int64_t(results.size()));
                    const bool alsoGeneric = a % kGenericStride == 0;
                    if (alsoGeneric) matmul::laneRound(f, results.data(), generic.data(), std::int64_t(results.size()), Isa::Generic);
                    for (std::uint32_t b = 0; b < operands.size(); ++b) {
                        const double exact = multiply ? double(x) * double(operands[b]) : double(x) + double(operands[b]);
                        const float want = fp16 ? static_cast<float>(static_cast<_Float16>(exact))
                                                : static_cast<float>(reference(exact, nullptr));
                        if (!sameResult(rounded[b], want) || (alsoGeneric && !sameResult(generic[b], want))) {
                            mismatch.count.fetch_add(1);
                            std::uint32_t seen = mismatch.first.load();
                            while ((a << 16 | b) < seen && !mismatch.first.compare_exchange_weak(seen, a << 16 | b)) {}
                        }
                    }
                }
            });
        for (auto& t : pool) t.join();
        if (mismatch.count) {
            const std::uint32_t a = mismatch.first >> 16, b = mismatch.first & 0xffffu;
            const double exact = multiply ? double(operands[a]) * double(operands[b]) : double(operands[a]) + double(operands[b]);
            QFAIL(qPrintable(QStringLiteral("%1 mismatches; first: 0x%2 %3 0x%4 = %5, lanes %6")
                                 .arg(mismatch.count.load())
                                 .arg(a, 4, 16, QLatin1Char('0'))
                                 .arg(multiply ? "×" : "+")
                                 .arg(b, 4, 16, QLatin1Char('0'))
                                 .arg(exact, 0, 'g', 17)
                                 .arg(double(matmul::laneRound(f, multiply ? operands[a] * operands[b]
                                                                           : operands[a] + operands[b])),
                                      0, 'g', 17)));
        }
        if (kStride > 1) qInfo("sanitizer build: every %u-th first operand", kStride);
    }
};

QTEST_APPLESS_MAIN(tst_LaneExhaustive)
#include "tst_lane_exhaustive.moc"
