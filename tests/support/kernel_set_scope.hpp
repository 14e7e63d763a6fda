#pragma once
// sgemm's kernel set for a scope, by name, and the names of every set this CPU runs (test rows).
#include <QString>
#include <QStringList>

#include <stdexcept>

#include "matmul/gemm_kernel.hpp"

namespace ks::test {

/// The sets this CPU can run, narrowest first ("generic", "avx2", "avx512 tiles on avx2", …).
inline QStringList runnableKernelSetNames() {
    QStringList names;
    for (const matmul::kernel::KernelSet* set : matmul::kernel::runnableKernelSets())
        names << QString::fromLatin1(set->name);
    return names;
}

/// Makes the named set sgemm's (and so every kernel built on its micro-kernels) until destroyed;
/// "active" keeps the default.
class KernelSetScope {
public:
    explicit KernelSetScope(const QString& name) {
        if (name == QLatin1String("active")) return;
        for (const matmul::kernel::KernelSet* set : matmul::kernel::runnableKernelSets())
            if (name == QLatin1String(set->name)) matmul::kernel::setActiveKernelSet(set);
        if (name != QLatin1String(matmul::kernel::activeKernelSet().name))
            throw std::logic_error("no kernel set " + name.toStdString());
    }
    ~KernelSetScope() { matmul::kernel::setActiveKernelSet(nullptr); }
    KernelSetScope(const KernelSetScope&) = delete;
    KernelSetScope& operator=(const KernelSetScope&) = delete;
};

}  // namespace ks::test
