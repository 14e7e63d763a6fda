#pragma once
// Output targets that a writer must not replace, made in a test's temporary folder; shared by the tests of
// io::writeFileAtomically, the CLI's --out and the GUI's exports.
#include <QString>

#include <filesystem>
#include <fstream>
#include <system_error>

#include <sys/stat.h>
#include <sys/sysmacros.h>

namespace ks::test {

/// Makes `path` a target of `kind`:
///  - "symlink": a link to `other`; "dangling": a link to nothing; "devnull-link": a link to /dev/null;
///  - "fifo"; "directory"; "readonly": a file holding "keep me", mode 0444;
///  - "device": a private /dev/null node (what `--out /dev/null` as root would replace).
/// Returns an empty string when done, otherwise why not ("needs root" for "device" without root: the caller skips).
inline QString makeHostileTarget(const QString& kind, const std::filesystem::path& path,
                                 const std::filesystem::path& other) {
    std::error_code ec;
    if (kind == QLatin1String("symlink")) std::filesystem::create_symlink(other, path, ec);
    else if (kind == QLatin1String("dangling")) std::filesystem::create_symlink(path.string() + ".none", path, ec);
    else if (kind == QLatin1String("devnull-link")) std::filesystem::create_symlink("/dev/null", path, ec);
    else if (kind == QLatin1String("directory")) std::filesystem::create_directory(path, ec);
    else if (kind == QLatin1String("fifo")) {
        if (::mkfifo(path.c_str(), 0600) != 0) return QStringLiteral("mkfifo failed");
    } else if (kind == QLatin1String("readonly")) {
        std::ofstream(path) << "keep me";
        if (::chmod(path.c_str(), 0444) != 0) return QStringLiteral("chmod failed");
    } else if (kind == QLatin1String("device")) {
        if (::mknod(path.c_str(), S_IFCHR | 0666, makedev(1, 3)) != 0) return QStringLiteral("needs root");
    } else {
        return QStringLiteral("unknown kind ") + kind;
    }
    return ec ? QString::fromStdString(ec.message()) : QString();
}

}  // namespace ks::test
