// Training: the loss goes down, the same seed gives the same weights, cancel stops, fine-tuning
// recovers a truncated network, and the shipped default weights reach their recorded accuracy.
#include <QTest>

#include "io/embedded_resources.hpp"
#include "io/mnist.hpp"
#include "nn/low_rank.hpp"
#include "nn/model_io.hpp"
#include "nn/trainer.hpp"
#include "reference_forward.hpp"

using namespace ks;

namespace {

/// A stratified subset of n digits of a set.
io::DigitSet stratified(const io::DigitSet& set, std::size_t n) {
    const auto mask = io::stratifiedTestMask(set.labels, n);
    std::vector<std::size_t> keep;
    for (std::size_t i = 0; i < mask.size(); ++i)
        if (mask[i]) keep.push_back(i);
    return set.subset(keep);
}

}  // namespace

class tst_Training : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void initTestCase() {
        split_ = io::embeddedSplit();
#ifdef KS_SANITIZE_BUILD
        // The sanitizer build runs ~20× slower: smaller training sets, same checks.
        small_ = stratified(split_.train, 500);
#else
        small_ = stratified(split_.train, 2000);
#endif
    }

    void lossDecreasesAndAccuracyRises() {
        nn::Model model = nn::Model::mlp({784, 64, 10}, 3);
        const nn::MatrixF x = nn::toMatrix(small_.normalisedImages());
        const nn::MatrixF test = nn::toMatrix(split_.test.normalisedImages());
        const double before = nn::accuracy(model.forward(test), split_.test.labels);
        const double lossBefore = nn::meanNll(model.forward(x), small_.labels);
        std::vector<nn::TrainProgress> seen;
        nn::TrainOptions options;
        options.epochs = 3;
        options.progress = [&](const nn::TrainProgress& p) { seen.push_back(p); };
        const nn::TrainResult result = nn::train(model, x, small_.labels, options);
        QCOMPARE(result.epochLoss.size(), std::size_t{3});
        QVERIFY(result.epochLoss[0] < lossBefore);
        QVERIFY(result.epochLoss[2] < result.epochLoss[0]);
        QVERIFY(nn::meanNll(model.forward(x), small_.labels) < 0.5 * lossBefore);
        const double after = nn::accuracy(model.forward(test), split_.test.labels);
        QVERIFY2(before < 0.3 && after > 0.8, qPrintable(QString("%1 → %2").arg(before).arg(after)));
        // One report per epoch, learning rate ×0.7 each time.
        QCOMPARE(seen.size(), std::size_t{3});
        QCOMPARE(seen[2].epoch, 3);
        QVERIFY(std::abs(seen[2].learningRate - 0.49) < 1e-6);
    }

    void sameSeedSameWeights() {
        const nn::MatrixF x = nn::toMatrix(stratified(small_, 300).normalisedImages());
        const auto labels = stratified(small_, 300).labels;
        nn::TrainOptions options;
        options.epochs = 2;
        options.seed = 42;
        nn::Model a = nn::Model::mlp({784, 32, 10}, 42), b = nn::Model::mlp({784, 32, 10}, 42);
        nn::train(a, x, labels, options);
        nn::train(b, x, labels, options);
        QVERIFY(a.layers()[0].weight == b.layers()[0].weight);
        QVERIFY(a.layers()[2].bias == b.layers()[2].bias);
        options.seed = 43;
        nn::Model c = nn::Model::mlp({784, 32, 10}, 42);
        nn::train(c, x, labels, options);
        QVERIFY(!(a.layers()[0].weight == c.layers()[0].weight));
    }

    void cancelStops() {
        nn::Model model = nn::Model::mlp({784, 16, 10}, 1);
        const nn::Model untouched = model;
        std::atomic<bool> cancel{true};
        nn::TrainOptions options;
        options.cancel = &cancel;
        const nn::TrainResult r = nn::train(model, nn::toMatrix(small_.normalisedImages()), small_.labels, options);
        QVERIFY(r.cancelled);
        QVERIFY(r.epochLoss.empty());
        QVERIFY(model.layers()[0].weight == untouched.layers()[0].weight);
    }

    // The shipped weights against the test's own double forward (reference_forward.hpp): core/nn's float32
    // forward must classify the test digits as it does (but for close calls). The recorded figures then pin
    // the shipped files themselves: resources/weights/README.md states what `train --seed 1` produced, and a
    // different file embedded without updating it must fail here.
    void shippedWeights_data() {
        QTest::addColumn<QString>("name");
        QTest::addColumn<int>("parameters");
        QTest::addColumn<int>("recordedCorrect");  // of the 2,000 test digits, resources/weights/README.md
        QTest::newRow("embedded (MLP)") << "embedded" << 468874 << 1932;    // 0.9660
        QTest::newRow("embedded-cnn") << "embedded-cnn" << 52138 << 1953;  // 0.9765
    }
    void shippedWeights() {
        QFETCH(QString, name);
        QFETCH(int, parameters);
        QFETCH(int, recordedCorrect);
        if (io::embeddedDefaultWeights().empty() || io::embeddedCnnWeights().empty())
            QFAIL("this build has no embedded default weights");
        const nn::Model model = nn::loadModel(name.toStdString());
        QCOMPARE(model.parameterCount(), parameters);
        const nn::MatrixF x = nn::toMatrix(split_.test.normalisedImages());
        const nn::MatrixF out = model.forward(x);
        const ks::test::PredictionCheck check =
            ks::test::comparePredictions(out.cast<double>(), ks::test::referenceForward(model, x.cast<double>()),
                                         split_.test.labels);
        QVERIFY2(check.maxError < 1e-3, qPrintable(QString::number(check.maxError)));  // float32 rounding only
        QCOMPARE(check.disagreements, std::size_t(0));
        const double correct = nn::accuracy(out, split_.test.labels) * double(split_.test.count());
        QVERIFY2(std::fabs(correct - double(check.referenceCorrect)) <= double(check.closeCalls),
                 qPrintable(QString("%1 vs %2 by the reference").arg(correct).arg(check.referenceCorrect)));
        QCOMPARE(int(check.referenceCorrect), recordedCorrect);
    }

    void fineTuningRecoversTruncation() {
        if (io::embeddedDefaultWeights().empty()) QFAIL("this build has no embedded default weights");
        const nn::Model low = nn::ModelFactorisation(nn::loadModel("embedded")).withSharedRank(4);
        const nn::MatrixF test = nn::toMatrix(split_.test.normalisedImages());
        const double truncated = nn::accuracy(low.forward(test), split_.test.labels);
        nn::Model tuned = low;
        // Adadelta starts with steps of about sqrt(ε): a few epochs. (`kernelscope-cli train --from embedded
        // --rank fc1=4,fc2=4,fc3=4 --epochs 3` on all 8,000 digits: 0.437 → 0.864.)
        nn::TrainOptions options;
        options.epochs = 3;
        nn::train(tuned, nn::toMatrix(small_.normalisedImages()), small_.labels, options);
        QVERIFY(tuned.layers()[0].kind == nn::LayerKind::LowRankLinear);
        QCOMPARE(tuned.parameterCount(), low.parameterCount());
        const double after = nn::accuracy(tuned.forward(test), split_.test.labels);
        QVERIFY2(after > truncated + 0.15, qPrintable(QString("rank 4: %1 → %2").arg(truncated).arg(after)));
    }

private:
    io::DigitSplit split_;
    io::DigitSet small_;
};

QTEST_APPLESS_MAIN(tst_Training)
#include "tst_training.moc"
