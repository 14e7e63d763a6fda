#pragma once
// A dense, row-major (C order) n-dimensional array: the currency between io, kernels and studies.
#include <cstddef>
#include <cstdint>
#include <numeric>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

namespace ks {

using Shape = std::vector<std::int64_t>;

inline std::int64_t elementCount(const Shape& shape) {
    return std::accumulate(shape.begin(), shape.end(), std::int64_t{1}, std::multiplies<>());
}

inline std::string shapeToString(const Shape& shape) {
    std::string s = "(";
    for (std::size_t i = 0; i < shape.size(); ++i) {
        if (i) s += ", ";
        s += std::to_string(shape[i]);
    }
    return s + (shape.size() == 1 ? ",)" : ")");
}

template <class T>
class Tensor {
public:
    using value_type = T;

    Tensor() = default;
    explicit Tensor(Shape shape, T fill = T{})
        : shape_(std::move(shape)), data_(static_cast<std::size_t>(checkedCount(shape_)), fill) {}
    Tensor(Shape shape, std::vector<T> data) : shape_(std::move(shape)), data_(std::move(data)) {
        if (static_cast<std::int64_t>(data_.size()) != checkedCount(shape_))
            throw std::invalid_argument("tensor data has " + std::to_string(data_.size()) +
                                        " elements, shape " + shapeToString(shape_) + " needs " +
                                        std::to_string(elementCount(shape_)));
    }

    const Shape& shape() const { return shape_; }
    std::int64_t dim(std::size_t i) const { return shape_.at(i); }
    std::size_t rank() const { return shape_.size(); }
    std::size_t size() const { return data_.size(); }
    bool empty() const { return data_.empty(); }

    T* data() { return data_.data(); }
    const T* data() const { return data_.data(); }
    std::span<T> span() { return data_; }
    std::span<const T> span() const { return data_; }
    std::vector<T>& storage() { return data_; }
    const std::vector<T>& storage() const { return data_; }
    T& operator[](std::size_t i) { return data_[i]; }
    const T& operator[](std::size_t i) const { return data_[i]; }

    /// Same elements, another shape with the same count.
    void reshape(Shape shape) {
        if (checkedCount(shape) != static_cast<std::int64_t>(data_.size()))
            throw std::invalid_argument("cannot reshape " + shapeToString(shape_) + " to " +
                                        shapeToString(shape));
        shape_ = std::move(shape);
    }

    template <class U>
    Tensor<U> cast() const {
        Tensor<U> out;
        out.shape_ = shape_;
        out.data_.assign(data_.begin(), data_.end());
        return out;
    }

private:
    template <class>
    friend class Tensor;

    static std::int64_t checkedCount(const Shape& shape) {
        for (auto d : shape)
            if (d < 0) throw std::invalid_argument("negative dimension in shape " + shapeToString(shape));
        return elementCount(shape);
    }

    Shape shape_;
    std::vector<T> data_;
};

using TensorF = Tensor<float>;
using TensorD = Tensor<double>;

}  // namespace ks
