#include "data/image_codec.h"

#include <csetjmp>
#include <cstdio>
#include <cstring>

// jpeglib.h needs FILE and size_t declared first; jerror.h after it (the message codes).
// clang-format off
#include <jpeglib.h>
#include <jerror.h>
// clang-format on
#include <png.h>

#include <opencv2/imgproc.hpp>

#include "util/error.h"
#include "util/files.h"

namespace fastgda {
namespace {

// libpng and libjpeg report errors by longjmp. Each decoder keeps every C++ object it owns outside
// the function that calls setjmp, so no destructor is ever skipped; the message is copied into a
// plain buffer and thrown as Error only after the jump.
struct CodecError {
  std::jmp_buf jump;
  char message[JMSG_LENGTH_MAX > 200 ? JMSG_LENGTH_MAX : 200] = {};
};

bool isPng(const unsigned char* data, size_t size) {
  return size >= 8 && png_sig_cmp(data, 0, 8) == 0;
}

bool isJpeg(const unsigned char* data, size_t size) {
  return size >= 3 && data[0] == 0xFF && data[1] == 0xD8 && data[2] == 0xFF;
}

// ---- PNG ----

struct PngSource {
  const unsigned char* data;
  size_t size;
  size_t offset;
};

void pngError(png_structp png, png_const_charp message) {
  auto* error = static_cast<CodecError*>(png_get_error_ptr(png));
  std::snprintf(error->message, sizeof error->message, "%s", message);
  std::longjmp(error->jump, 1);
}

void pngWarning(png_structp, png_const_charp) {}  // e.g. an unknown chunk: the pixels are fine

void pngRead(png_structp png, png_bytep out, png_size_t length) {
  auto* source = static_cast<PngSource*>(png_get_io_ptr(png));
  if (length > source->size - source->offset) png_error(png, "file is truncated");
  std::memcpy(out, source->data + source->offset, length);
  source->offset += length;
}

struct PngHeader {
  png_uint_32 width = 0, height = 0;
  int channels = 0, bitDepth = 0;
};

// Reads the header, sets the transforms (palette and low bit depths expanded, transparency as
// alpha, grey with alpha as RGBA) and then, given `rows` (one pointer per row of a buffer the
// caller sized from the header), the pixels. Returns false with error->message set on failure.
bool pngDecode(PngSource* source, CodecError* error, PngHeader* header,
               std::vector<png_bytep>* rows, cv::Mat* pixels) {
  png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, error, pngError, pngWarning);
  if (!png) {
    std::snprintf(error->message, sizeof error->message, "out of memory");
    return false;
  }
  png_infop info = png_create_info_struct(png);
  if (setjmp(error->jump)) {
    png_destroy_read_struct(&png, &info, nullptr);
    return false;
  }
  if (!info) png_error(png, "out of memory");
  png_set_read_fn(png, source, pngRead);
  // Decompression bombs: refuse more than 2^28 pixels (16384², several GiB as RGBA) up front.
  png_set_user_limits(png, 1 << 16, 1 << 16);
  png_read_info(png, info);
  const int colorType = png_get_color_type(png, info);
  if (colorType == PNG_COLOR_TYPE_PALETTE) png_set_palette_to_rgb(png);
  if (colorType == PNG_COLOR_TYPE_GRAY && png_get_bit_depth(png, info) < 8)
    png_set_expand_gray_1_2_4_to_8(png);
  const bool transparency = png_get_valid(png, info, PNG_INFO_tRNS) != 0;
  if (transparency) png_set_tRNS_to_alpha(png);
  const bool grey = (colorType & PNG_COLOR_MASK_COLOR) == 0;
  if (grey && (transparency || (colorType & PNG_COLOR_MASK_ALPHA))) png_set_gray_to_rgb(png);
  if (png_get_bit_depth(png, info) == 16) png_set_swap(png);  // host order for the scaling below
  png_set_interlace_handling(png);
  png_read_update_info(png, info);
  header->width = png_get_image_width(png, info);
  header->height = png_get_image_height(png, info);
  header->channels = png_get_channels(png, info);
  header->bitDepth = png_get_bit_depth(png, info);
  if (static_cast<uint64_t>(header->width) * header->height > (uint64_t{1} << 28))
    png_error(png, "image is larger than 2^28 pixels");
  if (header->channels == 2) png_error(png, "unexpected grey+alpha layout after expansion");
  const int depth = header->bitDepth == 16 ? CV_16U : CV_8U;
  pixels->create(static_cast<int>(header->height), static_cast<int>(header->width),
                 CV_MAKETYPE(depth, header->channels));
  rows->resize(header->height);
  for (png_uint_32 y = 0; y < header->height; ++y) (*rows)[y] = pixels->ptr<png_byte>(y);
  png_read_image(png, rows->data());
  png_read_end(png, nullptr);
  png_destroy_read_struct(&png, &info, nullptr);
  return true;
}

cv::Mat decodePng(const unsigned char* data, size_t size, const std::string& name) {
  PngSource source{data, size, 0};
  CodecError error;
  PngHeader header;
  std::vector<png_bytep> rows;
  cv::Mat pixels;
  if (!pngDecode(&source, &error, &header, &rows, &pixels))
    fail(name, ": cannot decode PNG: ", error.message);
  if (pixels.depth() == CV_16U) pixels.convertTo(pixels, CV_8U, 1.0 / 257.0);
  return pixels;
}

// ---- JPEG ----

struct JpegError {
  jpeg_error_mgr manager;  // first: libjpeg casts j_common_ptr->err to it
  CodecError* error;
};

void jpegErrorExit(j_common_ptr jpeg) {
  auto* self = reinterpret_cast<JpegError*>(jpeg->err);
  (*jpeg->err->format_message)(jpeg, self->error->message);
  std::longjmp(self->error->jump, 1);
}

// Warnings go nowhere, except that a file that ends early is an error: libjpeg would fill the
// missing rows with grey and return a silently wrong image.
void jpegMessage(j_common_ptr jpeg, int level) {
  if (level == -1 && jpeg->err->msg_code == JWRN_JPEG_EOF) jpegErrorExit(jpeg);
}

bool jpegDecode(const unsigned char* data, size_t size, CodecError* error, cv::Mat* pixels) {
  jpeg_decompress_struct jpeg;
  JpegError errorManager;
  jpeg.err = jpeg_std_error(&errorManager.manager);
  errorManager.manager.error_exit = jpegErrorExit;
  errorManager.manager.emit_message = jpegMessage;
  errorManager.error = error;
  jpeg_create_decompress(&jpeg);
  if (setjmp(error->jump)) {
    jpeg_destroy_decompress(&jpeg);
    return false;
  }
  jpeg_mem_src(&jpeg, data, static_cast<unsigned long>(size));
  jpeg_read_header(&jpeg, TRUE);
  if (jpeg.jpeg_color_space == JCS_CMYK || jpeg.jpeg_color_space == JCS_YCCK) {
    std::snprintf(error->message, sizeof error->message,
                  "CMYK JPEG is not supported (save it as RGB)");
    jpeg_destroy_decompress(&jpeg);
    return false;
  }
  if (static_cast<uint64_t>(jpeg.image_width) * jpeg.image_height > (uint64_t{1} << 28)) {
    std::snprintf(error->message, sizeof error->message, "image is larger than 2^28 pixels");
    jpeg_destroy_decompress(&jpeg);
    return false;
  }
  jpeg.out_color_space = jpeg.num_components == 1 ? JCS_GRAYSCALE : JCS_RGB;
  jpeg_start_decompress(&jpeg);
  pixels->create(static_cast<int>(jpeg.output_height), static_cast<int>(jpeg.output_width),
                 CV_8UC(jpeg.output_components));
  while (jpeg.output_scanline < jpeg.output_height) {
    JSAMPROW row = pixels->ptr<JSAMPLE>(static_cast<int>(jpeg.output_scanline));
    jpeg_read_scanlines(&jpeg, &row, 1);
  }
  jpeg_finish_decompress(&jpeg);
  jpeg_destroy_decompress(&jpeg);
  return true;
}

cv::Mat decodeJpeg(const unsigned char* data, size_t size, const std::string& name) {
  CodecError error;
  cv::Mat pixels;
  if (!jpegDecode(data, size, &error, &pixels)) fail(name, ": cannot decode JPEG: ", error.message);
  return pixels;
}

// ---- PNG out ----

void pngWrite(png_structp png, png_bytep data, png_size_t length) {
  auto* out = static_cast<std::vector<unsigned char>*>(png_get_io_ptr(png));
  out->insert(out->end(), data, data + length);
}

void pngFlush(png_structp) {}

bool pngEncode(const cv::Mat& image, int colorType, std::vector<png_bytep>* rows,
               std::vector<unsigned char>* out, CodecError* error) {
  png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, error, pngError, pngWarning);
  if (!png) {
    std::snprintf(error->message, sizeof error->message, "out of memory");
    return false;
  }
  png_infop info = png_create_info_struct(png);
  if (setjmp(error->jump)) {
    png_destroy_write_struct(&png, &info);
    return false;
  }
  if (!info) png_error(png, "out of memory");
  png_set_write_fn(png, out, pngWrite, pngFlush);
  // Fast compression: these are working files (regenerated images, exports), not an archive.
  png_set_compression_level(png, 3);
  png_set_IHDR(png, info, static_cast<png_uint_32>(image.cols),
               static_cast<png_uint_32>(image.rows), 8, colorType, PNG_INTERLACE_NONE,
               PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
  png_write_info(png, info);
  png_write_image(png, rows->data());
  png_write_end(png, nullptr);
  png_destroy_write_struct(&png, &info);
  return true;
}

}  // namespace

std::string imageFileFormat(const std::string& path) {
  unsigned char head[8] = {};
  FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) return {};
  const size_t n = std::fread(head, 1, sizeof head, f);
  std::fclose(f);
  if (n == 8 && png_sig_cmp(head, 0, 8) == 0) return "png";
  if (n >= 3 && head[0] == 0xFF && head[1] == 0xD8 && head[2] == 0xFF) return "jpeg";
  return {};
}

cv::Mat decodeImageFile(const std::string& path) {
  // Read the bytes ourselves so that "missing" and "not an image" get different messages.
  const std::vector<char> bytes = readFileBytes(path);
  return decodeImageBytes(bytes.data(), bytes.size(), path);
}

cv::Mat decodeImageBytes(const char* data, size_t size, const std::string& name) {
  if (size == 0) fail(name, ": image file is empty");
  const auto* bytes = reinterpret_cast<const unsigned char*>(data);
  cv::Mat image;
  if (isPng(bytes, size))
    image = decodePng(bytes, size, name);
  else if (isJpeg(bytes, size))
    image = decodeJpeg(bytes, size, name);
  else
    fail(name, ": not a PNG or JPEG file (its first bytes are neither signature)");
  if (image.channels() == 1) cv::cvtColor(image, image, cv::COLOR_GRAY2RGB);
  return image;
}

std::vector<unsigned char> encodePng(const cv::Mat& image, const std::string& name) {
  if (image.depth() != CV_8U || image.empty())
    fail(name, ": PNG needs a non-empty 8-bit image, found depth ", image.depth(), ", ", image.cols,
         "x", image.rows);
  int colorType = 0;
  switch (image.channels()) {
    case 1:
      colorType = PNG_COLOR_TYPE_GRAY;
      break;
    case 3:
      colorType = PNG_COLOR_TYPE_RGB;
      break;
    case 4:
      colorType = PNG_COLOR_TYPE_RGB_ALPHA;
      break;
    default:
      fail(name, ": PNG needs 1, 3 or 4 channels, found ", image.channels());
  }
  const cv::Mat contiguous = image.isContinuous() ? image : image.clone();
  std::vector<png_bytep> rows(static_cast<size_t>(contiguous.rows));
  for (int y = 0; y < contiguous.rows; ++y)
    rows[static_cast<size_t>(y)] = const_cast<png_bytep>(contiguous.ptr<png_byte>(y));
  std::vector<unsigned char> out;
  CodecError error;
  if (!pngEncode(contiguous, colorType, &rows, &out, &error))
    fail(name, ": cannot encode PNG: ", error.message);
  return out;
}

void writePngFile(const std::string& path, const cv::Mat& image) {
  const std::vector<unsigned char> png = encodePng(image, path);
  writeFileAtomically(path, reinterpret_cast<const char*>(png.data()), png.size());
}

}  // namespace fastgda
