#include "model/native.h"

#include <QDir>
#include <QFile>
#include <QJsonDocument>
#include <QJsonObject>

#include "model/detail/networks.h"
#include "model/model.h"
#include "util/archive_file.h"
#include "util/error.h"

namespace fastgda {

std::string NativeArchitecture::toJson() const {
  QJsonObject o;
  o["text_dim"] = static_cast<qint64>(textDim);
  o["text_layers"] = static_cast<qint64>(textLayers);
  o["text_heads"] = static_cast<qint64>(textHeads);
  o["latent_channels"] = static_cast<qint64>(latentChannels);
  o["image_size"] = static_cast<qint64>(imageSize);
  o["codec_channels"] = static_cast<qint64>(codecChannels);
  o["unet_channels"] = static_cast<qint64>(unetChannels);
  o["unet_heads"] = static_cast<qint64>(unetHeads);
  o["time_dim"] = static_cast<qint64>(timeDim);
  return QJsonDocument(o).toJson(QJsonDocument::Compact).toStdString();
}

double NativeArchitecture::unetForwardFlops(int64_t m) const {
  const double c0 = unetChannels, c1 = 2.0 * unetChannels, d = textDim, t = timeDim;
  const double hw0 = (imageSize / 4.0) * (imageSize / 4.0), hw1 = hw0 / 4.0;
  auto conv = [](double in, double out, double k, double hw) { return 2 * in * out * k * k * hw; };
  auto res = [&](double in, double out, double hw) {
    return conv(in, out, 3, hw) + conv(out, out, 3, hw) + (in != out ? conv(in, out, 1, hw) : 0) +
           2 * t * out;
  };
  auto cross = [&](double c, double hw) {
    return 2 * hw * c * c * 2 + 2 * 2 * m * d * c + 2 * 2 * hw * m * c + 2 * hw * c * 2 * c * 2;
  };
  return 2 * c0 * t + 2 * t * t + conv(latentChannels, c0, 3, hw0) + res(c0, c0, hw0) +
         cross(c0, hw0) + conv(c0, c0, 3, hw1) + res(c0, c1, hw1) + cross(c1, hw1) +
         2 * res(c1, c1, hw1) + cross(c1, hw1) + res(2 * c1, c1, hw1) + cross(c1, hw1) +
         conv(c1, c1, 3, hw0) + res(c1 + c0, c0, hw0) + cross(c0, hw0) +
         conv(c0, latentChannels, 3, hw0);
}

NativeArchitecture NativeArchitecture::fromJson(const std::string& json, const std::string& where) {
  const QJsonObject o = QJsonDocument::fromJson(QByteArray::fromStdString(json)).object();
  NativeArchitecture a;
  auto read = [&](const char* key, int64_t& field) {
    if (!o.contains(QLatin1String(key))) return;  // absent: keep the default
    const qint64 v = o[QLatin1String(key)].toInteger(-1);
    if (v <= 0) fail(where, ": architecture field '", key, "' must be a positive integer");
    field = v;
  };
  read("text_dim", a.textDim);
  read("text_layers", a.textLayers);
  read("text_heads", a.textHeads);
  read("latent_channels", a.latentChannels);
  read("image_size", a.imageSize);
  read("codec_channels", a.codecChannels);
  read("unet_channels", a.unetChannels);
  read("unet_heads", a.unetHeads);
  read("time_dim", a.timeDim);
  if (a.textDim % a.textHeads || a.unetChannels % a.unetHeads || a.imageSize % 4)
    fail(where, ": architecture: text_dim and unet_channels must divide by their heads and ",
         "image_size by 4");
  return a;
}

namespace detail {

NativeNetworks::NativeNetworks(const NativeArchitecture& a, int64_t vocabulary, int64_t maxTokens)
    : text(a, vocabulary, maxTokens), codec(a), unet(a) {}

std::vector<std::pair<std::string, std::shared_ptr<torch::nn::Module>>> NativeNetworks::parts()
    const {
  return {{"text", text.ptr()}, {"codec", codec.ptr()}, {"unet", unet.ptr()}};
}

void saveWeights(
    const std::string& path,
    const std::vector<std::pair<std::string, std::shared_ptr<torch::nn::Module>>>& parts) {
  torch::serialize::OutputArchive archive;
  for (const auto& [prefix, module] : parts) {
    for (const auto& p : module->named_parameters())
      archive.write(prefix + "." + p.key(), p.value().cpu());  // readable without a GPU
    for (const auto& b : module->named_buffers())
      archive.write(prefix + "." + b.key(), b.value().cpu(), /*is_buffer=*/true);
  }
  saveArchiveAtomically(archive, path, "weights");
}

void loadWeights(
    const std::string& path,
    const std::vector<std::pair<std::string, std::shared_ptr<torch::nn::Module>>>& parts) {
  if (!QFile::exists(QString::fromStdString(path))) fail(path, ": weights file not found");
  torch::serialize::InputArchive archive;
  try {
    archive.load_from(path, torch::Device(torch::kCPU));  // then copied to the module's device
  } catch (const c10::Error& e) {
    fail(path, ": cannot read weights (truncated or not a LibTorch archive)");
  }
  torch::NoGradGuard noGrad;
  for (const auto& [prefix, module] : parts) {
    auto load = [&](const std::string& name, torch::Tensor& target, bool buffer) {
      torch::Tensor loaded;
      const std::string key = prefix + "." + name;
      if (!archive.try_read(key, loaded, buffer)) fail(path, ": tensor '", key, "' is missing");
      checkTensorShape(path, key, loaded, target);
      target.copy_(loaded);
    };
    for (auto& p : module->named_parameters()) load(p.key(), p.value(), false);
    for (auto& b : module->named_buffers()) load(b.key(), b.value(), true);
  }
}

}  // namespace detail
}  // namespace fastgda
