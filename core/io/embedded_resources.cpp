#include "io/embedded_resources.hpp"

// Paths come from core/io/CMakeLists.txt, which also makes this file depend on them.
#define KS_INCBIN(symbol, path)                                  \
    __asm__(".pushsection .rodata\n"                             \
            ".balign 64\n"                                       \
            ".globl " #symbol "_begin\n"                         \
            ".hidden " #symbol "_begin\n" #symbol "_begin:\n"    \
            ".incbin \"" path "\"\n"                             \
            ".globl " #symbol "_end\n"                           \
            ".hidden " #symbol "_end\n" #symbol "_end:\n"        \
            ".popsection\n");                                    \
    extern "C" const unsigned char symbol##_begin[];             \
    extern "C" const unsigned char symbol##_end[];

KS_INCBIN(ks_mnist_images, KS_MNIST_IMAGES_PATH)
KS_INCBIN(ks_mnist_labels, KS_MNIST_LABELS_PATH)
KS_INCBIN(ks_photo_ppm, KS_PHOTO_PPM_PATH)
#ifdef KS_DEFAULT_WEIGHTS_PATH
KS_INCBIN(ks_default_weights, KS_DEFAULT_WEIGHTS_PATH)
#endif
#ifdef KS_CNN_WEIGHTS_PATH
KS_INCBIN(ks_cnn_weights, KS_CNN_WEIGHTS_PATH)
#endif

namespace ks::io {

namespace {
std::span<const std::byte> between(const unsigned char* begin, const unsigned char* end) {
    return {reinterpret_cast<const std::byte*>(begin), static_cast<std::size_t>(end - begin)};
}
}  // namespace

std::span<const std::byte> embeddedMnistImagesGz() { return between(ks_mnist_images_begin, ks_mnist_images_end); }
std::span<const std::byte> embeddedMnistLabelsGz() { return between(ks_mnist_labels_begin, ks_mnist_labels_end); }
std::span<const std::byte> embeddedPhotoPpm() { return between(ks_photo_ppm_begin, ks_photo_ppm_end); }
std::span<const std::byte> embeddedDefaultWeights() {
#ifdef KS_DEFAULT_WEIGHTS_PATH
    return between(ks_default_weights_begin, ks_default_weights_end);
#else
    return {};
#endif
}
std::span<const std::byte> embeddedCnnWeights() {
#ifdef KS_CNN_WEIGHTS_PATH
    return between(ks_cnn_weights_begin, ks_cnn_weights_end);
#else
    return {};
#endif
}

}  // namespace ks::io
