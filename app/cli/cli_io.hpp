#pragma once
// Helpers shared by the CLI's commands: arrays in and out as .npy, tables out (text and CSV), numbers.
#include <string>
#include <vector>

#include "base/tensor.hpp"
#include "command.hpp"
#include "io/mnist.hpp"

namespace ks::cli {

/// The .npy named by option --name, as float32 / float64.
TensorF readArrayF(const Args& args, const std::string& option);
TensorD readArrayD(const Args& args, const std::string& option);
void writeArray(const std::string& path, const TensorF& tensor);
void writeArray(const std::string& path, const TensorD& tensor);

/// The test digits of --data: 'embedded' (its 2,000 test digits) or an MNIST IDX folder, of which only the t10k
/// files are read (a folder without the training files is enough).
io::DigitSet testDigits(const std::string& source);
/// --data's help for the commands that only evaluate.
inline constexpr const char* kTestDataHelp =
    "'embedded' (2,000 test digits) or an MNIST IDX folder: its t10k-* files (training files not needed)";

/// A simple table printed with aligned columns, or written as CSV (atomically).
struct Table {
    std::vector<std::string> columns;
    std::vector<std::vector<std::string>> rows;
    std::string toText() const;
    std::string toCsv() const;
};
void writeText(const std::string& path, const std::string& text);

/// One number for a table cell, printf-style ("%.3f").
std::string number(const char* printfFormat, double value);

}  // namespace ks::cli
