// Summation orders against published behaviour and exact sums: 10,000 samples of U(0, 1) summed one by one in
// bf16 stop at exactly 256 (bf16's spacing there is 2, so 256 + x rounds back for x < 1; ml_dtypes' README);
// pairwise, blocked, Kahan-compensated and fp32 sums do not stall. Orders are checked on small cases by hand.
#include <QTest>

#include <cmath>
#include <random>
#include <vector>

#include "test_support.hpp"

#include "numeric/compute_spec.hpp"
#include "numeric/summation.hpp"

using namespace ks::numeric;

namespace {
std::vector<double> uniformSamples(EmulatedArithmetic& arith, std::size_t n) {
    std::mt19937_64 random(42);
    std::uniform_real_distribution<double> unit(0.0, 1.0);
    std::vector<double> v(n);
    for (double& x : v) x = arith.store(unit(random));
    return v;
}
double exactSum(const std::vector<double>& v) {
    long double s = 0;
    for (double x : v) s += x;
    return double(s);
}
}  // namespace

class tst_Summation : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void bf16SequentialStallsAt256() {
        EmulatedArithmetic bf16(ComputeSpec::uniform(Format::bf16()));
        const std::vector<double> v = uniformSamples(bf16, 10000);
        const double exact = exactSum(v);  // about 5,000
        KS_COMPARE_EXACT(sum(bf16, std::span<const double>(v)), 256.0);
        for (SummationModel model : {SummationModel{SummationOrder::Pairwise}, SummationModel{SummationOrder::Kahan}}) {
            const double s = sum(bf16, std::span<const double>(v), model);
            QVERIFY2(std::fabs(s - exact) / exact < 0.01, qPrintable(QString::number(s)));
        }
        QVERIFY(sum(bf16, std::span<const double>(v), {SummationOrder::Blocked, 32}) > 1000);
        EmulatedArithmetic fp32(ComputeSpec::uniform(Format::fp32()));
        const double s32 = sum(fp32, std::span<const double>(v));
        QVERIFY2(std::fabs(s32 - exact) / exact < 1e-4, qPrintable(QString::number(s32)));
    }

    // By hand in bf16 (8 significant bits): 256 + 1 + 1 sequentially is 256 (each 257 ties back to the even 256);
    // pairwise it is 256 + 2 = 258; Kahan carries the lost 1 and reaches 258; blocks of 2 give (256 + 1) + 1 = 256.
    void ordersByHand() {
        EmulatedArithmetic bf16(ComputeSpec::uniform(Format::bf16()));
        const std::vector<double> v = {256, 1, 1};
        KS_COMPARE_EXACT(sum(bf16, std::span<const double>(v)), 256.0);
        KS_COMPARE_EXACT(sum(bf16, std::span<const double>(v), {SummationOrder::Pairwise}), 258.0);
        KS_COMPARE_EXACT(sum(bf16, std::span<const double>(v), {SummationOrder::Kahan}), 258.0);
        KS_COMPARE_EXACT(sum(bf16, std::span<const double>(v), {SummationOrder::Blocked, 2}), 256.0);
        KS_COMPARE_EXACT(sum(bf16, std::span<const double>(v), {SummationOrder::Blocked, 1}), 256.0);
        const std::vector<double> none;
        KS_COMPARE_EXACT(sum(bf16, std::span<const double>(none)), 0.0);
        QVERIFY_THROWS_EXCEPTION(std::invalid_argument, sum(bf16, std::span<const double>(v), {SummationOrder::Blocked, 0}));
    }
};

QTEST_APPLESS_MAIN(tst_Summation)
#include "tst_summation.moc"
