#include "study/operation.hpp"

#include <algorithm>
#include <stdexcept>

namespace ks::study {

const OperationImpl& convOperationImpl();    // study/conv_operation.cpp
const OperationImpl& matmulOperationImpl();  // study/matmul_operation.cpp

const OperationImpl& Operation::impl() const {
    static const OperationImpl* const table[] = {&convOperationImpl(), &matmulOperationImpl()};
    return *table[index_];
}

const std::vector<Operation>& Operation::all() {
    static const std::vector<Operation> operations = {Conv, Matmul};
    return operations;
}

Operation Operation::byId(std::string_view id) {
    std::string ids;
    for (const Operation& op : all()) {
        if (op.id() == id) return op;
        ids += (ids.empty() ? "" : ", ") + op.id();
    }
    throw std::invalid_argument("unknown operation '" + std::string(id) + "'; valid: " + ids);
}

std::string Operation::id() const { return impl().id(); }
std::string Operation::label() const { return impl().label(); }
const std::vector<const Algorithm*>& Operation::algorithms() const { return impl().algorithms(); }
const Algorithm& Operation::algorithm(std::string_view nameOrAlias) const { return impl().algorithm(nameOrAlias); }
std::string Operation::everydayAlgorithm() const { return impl().everydayAlgorithm(); }
std::string Operation::shapeSyntax() const { return impl().shapeSyntax(); }
std::optional<std::string> Operation::setShape(ProblemShapes& shapes, const std::vector<std::int64_t>& dims) const {
    return impl().setShape(shapes, dims);
}
std::vector<std::int64_t> Operation::defaultScalingSizes() const { return impl().defaultScalingSizes(); }

std::vector<std::string> Operation::resolve(const std::vector<std::string>& requested) const {
    std::vector<std::string> names;
    if (requested.empty())
        for (const Algorithm* a : algorithms()) names.push_back(a->name());
    for (const auto& n : requested) {
        std::string canonical = algorithm(n).name();
        if (std::find(names.begin(), names.end(), canonical) == names.end()) names.push_back(std::move(canonical));
    }
    return names;
}

}  // namespace ks::study
