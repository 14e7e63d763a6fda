#pragma once
// Helpers shared by the CLI's commands: arrays in and out as .npy, CSV tables out.
#include <string>
#include <vector>

#include "base/tensor.hpp"
#include "command.hpp"

namespace ks::cli {

/// The .npy named by option --name, as float32 / float64.
TensorF readArrayF(const Args& args, const std::string& option);
TensorD readArrayD(const Args& args, const std::string& option);
void writeArray(const std::string& path, const TensorF& tensor);
void writeArray(const std::string& path, const TensorD& tensor);

/// A simple table printed with aligned columns, or written as CSV (atomically).
struct Table {
    std::vector<std::string> columns;
    std::vector<std::vector<std::string>> rows;
    std::string toText() const;
    std::string toCsv() const;
};
void writeText(const std::string& path, const std::string& text);

}  // namespace ks::cli
