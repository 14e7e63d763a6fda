// `kernelscope-cli train`: the seed's recipe in C++ (Adadelta, lr 1.0 ×0.7 per epoch, batch 64),
// from scratch or fine-tuning a (low-rank) network, saved as .safetensors.
#include <cstdio>
#include <iostream>

#include "command.hpp"
#include "io/printable.hpp"
#include "nn/low_rank.hpp"
#include "nn/model_io.hpp"
#include "nn/trainer.hpp"

KS_CLI_COMMAND(trainCommand) {
    ks::cli::Command c;
    c.name = "train";
    c.summary = "Train the digit MLP or CNN (or fine-tune a low-rank one) and save it as .safetensors";
    c.details =
        "From scratch (PyTorch's default initialisation): --arch mlp, the seed's MLP 784→512→128→10;\n"
        "--arch cnn, conv 1→8 3×3 pad 1, ReLU, max-pool 2, conv 8→16 3×3 pad 1, ReLU, max-pool 2,\n"
        "flatten, fc1 784→64, ReLU, fc2 64→10 (52,138 parameters).\n"
        "With --from: starts from a weight file (or 'embedded'); with --rank the layers are first\n"
        "truncated by SVD and the factors are fine-tuned.";
    c.options = {
        {"out", "FILE", "output .safetensors file", true, ""},
        {"arch", "NAME", "from scratch: mlp or cnn", false, "mlp"},
        {"epochs", "E", "epochs", false, "14"},
        {"seed", "S", "seed of the initialisation and the batch order", false, "1"},
        {"lr", "RATE", "initial learning rate (×0.7 per epoch)", false, "1.0"},
        {"data", "SOURCE", "'embedded' (8,000 training digits) or an MNIST IDX folder (train-* and t10k-* files)", false, "embedded"},
        {"from", "FILE", "start from these weights instead of a random initialisation", false, ""},
        {"rank", "LIST", "with --from: truncate layers first, e.g. fc1=32,fc2=16", false, ""},
    };
    c.run = [](const ks::cli::Args& args) {
        const ks::io::DigitSplit digits = ks::nn::loadDigits(args.get("data"));
        const auto seed = static_cast<std::uint64_t>(args.getInt("seed", 0, (1LL << 62)));
        ks::nn::Model model;
        if (args.has("from")) {
            if (args.has("arch")) throw ks::cli::UsageError("--arch is for training from scratch; --from gives the architecture");
            model = ks::nn::loadModel(args.get("from"));
            if (args.has("rank")) {
                try {
                    model = ks::nn::ModelFactorisation(model).withRanks(ks::nn::parseRanks(args.get("rank")));
                } catch (const std::invalid_argument& e) {
                    throw ks::cli::UsageError(std::string("--rank: ") + e.what());
                }
            }
        } else {
            if (args.has("rank")) throw ks::cli::UsageError("--rank needs --from (a trained network to truncate)");
            const std::string arch = args.get("arch");
            if (arch == "mlp")
                model = ks::nn::Model::mlp({784, 512, 128, 10}, seed);
            else if (arch == "cnn")
                model = ks::nn::Model::digitCnn(seed);
            else
                throw ks::cli::UsageError("--arch: unknown architecture '" + arch + "' (mlp or cnn)");
        }
        ks::nn::TrainOptions options;
        options.epochs = static_cast<int>(args.getInt("epochs", 0, 1000));
        options.seed = seed;
        options.learningRate = args.getDouble("lr");
        options.progress = [](const ks::nn::TrainProgress& p) {
            std::printf("epoch %2d/%d  lr %.4f  loss %.4f\n", p.epoch, p.epochs, p.learningRate, p.meanLoss);
            std::fflush(stdout);
        };
        const ks::nn::MatrixF train = ks::nn::toMatrix(digits.train.normalisedImages());
        const ks::nn::MatrixF test = ks::nn::toMatrix(digits.test.normalisedImages());
        const double before = ks::nn::accuracy(model.forward(test), digits.test.labels);
        const ks::nn::TrainResult result = ks::nn::train(model, train, digits.train.labels, options);
        const double after = ks::nn::accuracy(model.forward(test), digits.test.labels);
        std::printf("model: %s\n", ks::io::printable(model.describe()).c_str());
        std::printf("training: %zu digits, %d epochs in %.2f s\n", digits.train.count(), options.epochs, result.seconds);
        std::printf("test accuracy: %.4f before, %.4f after (%zu digits)\n", before, after, digits.test.count());
        ks::nn::saveModel(args.get("out"), model,
                          {{"trainer", "kernelscope-cli train"},
                           {"seed", std::to_string(seed)},
                          {"arch", args.has("from") ? "from " + args.get("from") : args.get("arch")},
                           {"epochs", std::to_string(options.epochs)},
                           {"data", args.get("data")},
                           {"test_accuracy", std::to_string(after)}});
        std::printf("saved %s\n", args.get("out").c_str());
        return 0;
    };
    return c;
}
