#include "data/emoji_import.h"

#include <QDir>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QRegularExpression>
#include <algorithm>
#include <atomic>
#include <map>
#include <mutex>
#include <set>
#include <thread>
#include <unordered_map>

#include "data/image_codec.h"
#include "data/image_pack.h"
#include "data/image_prep.h"
#include "util/error.h"
#include "util/files.h"

namespace fastgda {
namespace {

// Fluent file names that are not the slug of an emojibase CLDR label, mapped to that slug.
const std::map<std::string, std::string> kFluentAliases = {
    {"blackbird", "black-bird"},
    {"hugging-face", "smiling-face-with-open-hands"},
    {"keycap-asterisk", "keycap"},  // code point from kFluentHexAliases (labels slug alike)
    {"keycap-hashtag", "keycap"},
    {"knocked-out-face", "face-with-crossed-out-eyes"},
    {"man-blonde-hair", "man-blond-hair"},
    {"woman-blonde-hair", "woman-blond-hair"},
    {"person-blonde-hair", "person-blond-hair"},
    {"man-deaf", "deaf-man"},
    {"woman-deaf", "deaf-woman"},
    {"person-deaf", "deaf-person"},
    {"man-merpeople", "merman"},
    {"woman-merpeople", "mermaid"},
    {"person-merpeople", "merperson"},
    {"man-with-bunny-ears", "men-with-bunny-ears"},
    {"woman-with-bunny-ears", "women-with-bunny-ears"},
    {"person-with-bunny-ears", "people-with-bunny-ears"},
    {"man-wrestling", "men-wrestling"},
    {"woman-wrestling", "women-wrestling"},
    {"person-wrestling", "people-wrestling"},
    {"person-elf", "elf"},
    {"person-fairy", "fairy"},
    {"person-genie", "genie"},
    {"person-mage", "mage"},
    {"person-superhero", "superhero"},
    {"person-supervillain", "supervillain"},
    {"person-vampire", "vampire"},
    {"person-zombie", "zombie"},
    {"phoenix-bird", "phoenix"},
    {"pouting-face", "enraged-face"},
    {"red-triangle", "red-triangle-pointed-up"},
    {"stuffedbread-flat", "stuffed-flatbread"},
    {"stuffedbread", "stuffed-flatbread"},  // the "modern" file drops the "-flat"
};
// Keycap labels slug to the same text; these two need their code points.
const std::map<std::string, std::string> kFluentHexAliases = {{"keycap-asterisk", "002A-20E3"},
                                                              {"keycap-hashtag", "0023-20E3"}};

// Fluent skin-tone suffixes and emojibase's tone numbers; longest first so "-medium-dark" wins.
const std::vector<std::pair<std::string, int>> kFluentTones = {
    {"-medium-light", 2}, {"-medium-dark", 4}, {"-default", 0},
    {"-light", 1},        {"-medium", 3},      {"-dark", 5}};

const char* const kToneNames[] = {"", "light", "medium-light", "medium", "medium-dark", "dark"};

std::string normalizeHex(QString hex) {
  hex = hex.toUpper();
  hex.remove(QStringLiteral("-FE0F"));
  return hex.toStdString();
}

std::string slug(const QString& label) {
  QString s = label.normalized(QString::NormalizationForm_KD).toLower();
  QString ascii;
  for (QChar c : s)
    if (c.unicode() < 128) ascii += c;
  ascii.remove(QLatin1Char('\''));
  ascii.replace(QRegularExpression(QStringLiteral("[^a-z0-9]+")), QStringLiteral("-"));
  while (ascii.startsWith(QLatin1Char('-'))) ascii.remove(0, 1);
  while (ascii.endsWith(QLatin1Char('-'))) ascii.chop(1);
  return ascii.toStdString();
}

// "waving hand: light skin tone" -> "waving hand, light skin tone"
std::string captionFromLabel(const std::string& label, const std::string& style) {
  QString text = QString::fromStdString(label);
  text.replace(QStringLiteral(": "), QStringLiteral(", "));
  return text.toStdString() + ", " + style + " style";
}

QJsonDocument readJson(const std::string& path) {
  const std::vector<char> bytes = readFileBytes(path);
  QJsonParseError error;
  QJsonDocument doc = QJsonDocument::fromJson(
      QByteArray(bytes.data(), static_cast<qsizetype>(bytes.size())), &error);
  if (doc.isNull())
    fail(path, ": invalid JSON (", error.errorString().toStdString(), " at offset ", error.offset,
         ")");
  return doc;
}

// Finds <packagesDir>/<name>[-<version>]/package.
std::string packageRoot(const std::string& packagesDir, const std::string& name) {
  const QDir dir(QString::fromStdString(packagesDir));
  if (!dir.exists()) fail(packagesDir, ": packages folder not found");
  const QString qname = QString::fromStdString(name);
  for (const QString& entry : dir.entryList(QDir::Dirs | QDir::NoDotAndDotDot, QDir::Name)) {
    const bool matches =
        entry == qname || (entry.startsWith(qname + QLatin1Char('-')) &&
                           entry.size() > qname.size() + 1 && entry[qname.size() + 1].isDigit());
    if (matches && QDir(dir.filePath(entry) + QStringLiteral("/package")).exists())
      return (dir.filePath(entry) + QStringLiteral("/package")).toStdString();
  }
  fail(packagesDir, ": package '", name,
       "' not found (expected a folder <name>[-<version>]/package; see docs/emoji-dataset.md, "
       "rebuilding "
       "it)");
}

struct Emojibase {
  std::map<std::string, std::string> labelOfHex;                // normalized hex -> CLDR label
  std::map<std::string, std::string> hexOfSlug;                 // slug(label) -> hex (base emoji)
  std::map<std::string, std::map<int, std::string>> toneLabel;  // base hex -> tone -> label
  std::map<std::string, std::pair<int, int>> groupOfHex;        // base hex -> (group, subgroup)
};

Emojibase loadEmojibase(const std::string& root) {
  Emojibase eb;
  const std::string path = root + "/en/data.json";
  const QJsonArray all = readJson(path).array();
  if (all.isEmpty()) fail(path, ": expected a non-empty JSON array");
  for (const QJsonValue& v : all) {
    const QJsonObject e = v.toObject();
    const std::string hex = normalizeHex(e["hexcode"].toString());
    const std::string label = e["label"].toString().toStdString();
    eb.labelOfHex[hex] = label;
    eb.hexOfSlug.emplace(slug(e["label"].toString()), hex);
    eb.groupOfHex[hex] = {e["group"].toInt(-1), e["subgroup"].toInt(-1)};
    for (const QJsonValue& s : e["skins"].toArray()) {
      const QJsonObject skin = s.toObject();
      eb.labelOfHex[normalizeHex(skin["hexcode"].toString())] =
          skin["label"].toString().toStdString();
      if (skin["tone"].isDouble())
        eb.toneLabel[hex][skin["tone"].toInt()] = skin["label"].toString().toStdString();
    }
  }
  return eb;
}

struct Candidate {
  ImageRecord record;
  std::string file;  // PNG or SVG
  bool svg = false;
};

struct Families {
  std::map<std::string, int> idOfHex;
  int of(const std::string& hex) {
    return idOfHex.emplace(hex, static_cast<int>(idOfHex.size())).first->second;
  }
};

struct Categories {
  std::map<std::string, std::pair<std::string, std::string>> ofHex;            // from emoji.json
  std::map<std::pair<int, int>, std::pair<std::string, std::string>> ofGroup;  // learnt mapping
};

// Noto or Twemoji: every base emoji and skin variation that has an image for the vendor.
void collectDatasource(const std::string& root, const std::string& vendor, const std::string& style,
                       const Emojibase& eb, Families& families, Categories& categories,
                       std::vector<Candidate>& out) {
  const std::string jsonPath = root + "/emoji.json";
  QJsonArray entries = readJson(jsonPath).array();
  if (entries.isEmpty()) fail(jsonPath, ": expected a non-empty JSON array");
  std::vector<QJsonObject> sorted;
  for (const QJsonValue& v : entries) sorted.push_back(v.toObject());
  std::stable_sort(sorted.begin(), sorted.end(), [](const QJsonObject& a, const QJsonObject& b) {
    return a["sort_order"].toInt() < b["sort_order"].toInt();
  });
  const QString hasImage = QStringLiteral("has_img_") + QString::fromStdString(vendor);
  for (const QJsonObject& e : sorted) {
    const std::string base = normalizeHex(e["unified"].toString());
    const int family = families.of(base);
    const std::string category = e["category"].toString().toStdString();
    const std::string subcategory = e["subcategory"].toString().toStdString();
    categories.ofHex[base] = {category, subcategory};
    if (auto g = eb.groupOfHex.find(base); g != eb.groupOfHex.end())
      categories.ofGroup.emplace(g->second, std::make_pair(category, subcategory));

    std::vector<std::pair<QString, QJsonObject>> variants = {{e["unified"].toString(), e}};
    const QJsonObject skins = e["skin_variations"].toObject();
    for (auto it = skins.begin(); it != skins.end(); ++it)
      variants.push_back({it.value().toObject()["unified"].toString(), it.value().toObject()});
    for (const auto& [unified, variant] : variants) {
      if (!variant[hasImage].toBool()) continue;
      const std::string hex = normalizeHex(unified);
      auto label = eb.labelOfHex.find(hex);
      Candidate c;
      c.record.id = style + "/" + variant["image"].toString().chopped(4).toStdString();
      c.record.caption = captionFromLabel(label != eb.labelOfHex.end()
                                              ? label->second
                                              : e["name"].toString().toLower().toStdString(),
                                          style);
      c.record.style = style;
      c.record.family = family;
      c.record.category = category;
      c.record.subcategory = subcategory;
      c.file = root + "/img/" + vendor + "/64/" + variant["image"].toString().toStdString();
      out.push_back(std::move(c));
    }
  }
}

void collectFluent(const std::string& root, const std::string& styleFolder, const Emojibase& eb,
                   Families& families, const Categories& categories, std::vector<Candidate>& out,
                   EmojiImportReport& report) {
  const std::string style = "fluent " + styleFolder;
  const QDir dir(QString::fromStdString(root + "/icons/" + styleFolder));
  const QStringList files = dir.entryList({QStringLiteral("*.svg")}, QDir::Files, QDir::Name);
  if (files.isEmpty()) fail(dir.path().toStdString(), ": no SVG files found");
  std::set<std::string> toned;  // bases that come in skin tones (they have an X-default file)
  for (const QString& f : files)
    if (f.endsWith(QStringLiteral("-default.svg"))) toned.insert(f.chopped(12).toStdString());
  for (const QString& f : files) {
    const std::string stem = f.chopped(4).toStdString();
    std::string base = stem;
    int tone = -1;
    for (const auto& [suffix, number] : kFluentTones) {
      if (stem.size() > suffix.size() &&
          stem.compare(stem.size() - suffix.size(), suffix.size(), suffix) == 0 &&
          toned.count(stem.substr(0, stem.size() - suffix.size()))) {
        base = stem.substr(0, stem.size() - suffix.size());
        tone = number;
        break;
      }
    }
    std::string hex;
    const auto hexAlias = kFluentHexAliases.find(base);
    const auto alias = kFluentAliases.find(base);
    if (hexAlias != kFluentHexAliases.end()) {
      hex = hexAlias->second;
    } else if (auto it = eb.hexOfSlug.find(alias != kFluentAliases.end() ? alias->second : base);
               it != eb.hexOfSlug.end()) {
      hex = it->second;
    }
    if (hex.empty() || !eb.labelOfHex.count(hex)) {
      report.unmatched.push_back(styleFolder + "/" + stem);
      continue;
    }
    if (alias != kFluentAliases.end()) ++report.aliased;
    std::string label = eb.labelOfHex.at(hex);
    if (tone > 0) {
      auto tones = eb.toneLabel.find(hex);
      if (tones != eb.toneLabel.end() && tones->second.count(tone))
        label = tones->second.at(tone);
      else  // emojibase lists no such tone: spell it as CLDR does
        label += std::string(": ") + kToneNames[tone] + " skin tone";
    }
    Candidate c;
    c.record.id = "fluent-" + styleFolder + "/" + stem;
    c.record.caption = captionFromLabel(label, style);
    c.record.style = style;
    c.record.family = families.of(hex);
    if (auto cat = categories.ofHex.find(hex); cat != categories.ofHex.end()) {
      c.record.category = cat->second.first;
      c.record.subcategory = cat->second.second;
    } else if (auto g = eb.groupOfHex.find(hex); g != eb.groupOfHex.end()) {
      if (auto m = categories.ofGroup.find(g->second); m != categories.ofGroup.end()) {
        c.record.category = m->second.first;
        c.record.subcategory = m->second.second;
      }
    }
    c.file = dir.filePath(f).toStdString();
    c.svg = true;
    out.push_back(std::move(c));
  }
}

cv::Mat rasteriseSvg(const std::string& program, const std::string& svg, int size) {
  QProcess process;
  process.start(
      QString::fromStdString(program),
      {QStringLiteral("-w"), QString::number(size), QStringLiteral("-h"), QString::number(size),
       QStringLiteral("-f"), QStringLiteral("png"), QString::fromStdString(svg)});
  if (!process.waitForStarted(30000))
    fail(program,
         ": cannot start (install Debian's librsvg2-bin): ", process.errorString().toStdString());
  if (!process.waitForFinished(60000)) {
    process.kill();
    process.waitForFinished(5000);
    fail(svg, ": rsvg-convert did not finish within 60 s");
  }
  const QByteArray png = process.readAllStandardOutput();
  if (process.exitStatus() != QProcess::NormalExit || process.exitCode() != 0 || png.isEmpty())
    fail(svg, ": rsvg-convert failed: ", process.readAllStandardError().trimmed().toStdString());
  return decodeImageBytes(png.constData(), static_cast<size_t>(png.size()), svg + " (rendered)");
}

}  // namespace

EmojiImportReport importEmoji(const EmojiImportOptions& options, const JobContext& job) {
  if (options.outputPath.empty()) fail("import-emoji: no output path given");
  EmojiImportReport report;
  const Emojibase eb = loadEmojibase(packageRoot(options.packagesDir, "emojibase-data"));
  Families families;
  Categories categories;
  std::vector<Candidate> candidates;
  collectDatasource(packageRoot(options.packagesDir, "emoji-datasource-google"), "google", "google",
                    eb, families, categories, candidates);
  collectDatasource(packageRoot(options.packagesDir, "emoji-datasource-twitter"), "twitter",
                    "twemoji", eb, families, categories, candidates);
  const std::string fluent = packageRoot(options.packagesDir, "fluentui-emoji");
  for (const char* style : {"flat", "modern"})
    collectFluent(fluent, style, eb, families, categories, candidates, report);
  job.log("found " + std::to_string(candidates.size()) + " images; " +
          std::to_string(report.unmatched.size()) + " Fluent files match no emoji");

  // Decode and reframe every image; SVGs go through rsvg-convert on several threads.
  const size_t n = candidates.size();
  std::vector<cv::Mat> small(n), large(n);
  std::atomic<size_t> next{0}, done{0};
  std::mutex errorMutex;
  std::string firstError;
  std::atomic<bool> failed{false};
  auto worker = [&] {
    for (size_t i = next++; i < n; i = next++) {
      if (job.cancelled() || failed) return;
      try {
        const Candidate& c = candidates[i];
        const cv::Mat rgba = c.svg
                                 ? rasteriseSvg(options.rsvgConvert, c.file, options.svgRenderSize)
                                 : decodeImageFile(c.file);
        small[i] = reframeArtwork(rgba, options.imageSize, options.margin);
        large[i] = reframeArtwork(rgba, options.displaySize, options.margin);
      } catch (const Error& e) {
        std::lock_guard<std::mutex> lock(errorMutex);
        if (firstError.empty()) firstError = e.what();
        failed = true;
        return;
      }
      const size_t finished = ++done;
      if (finished % 256 == 0) job.progress(double(finished) / n, "decoding images");
    }
  };
  std::vector<std::thread> threads;
  for (int t = 0; t < std::max(1, options.threads); ++t) threads.emplace_back(worker);
  for (std::thread& t : threads) t.join();
  job.checkCancelled();
  if (!firstError.empty()) throw Error(firstError);

  // Drop pixel-identical images (at model resolution) so no two captions share one picture.
  ImagePackContents pack;
  pack.name = "emoji";
  pack.imageSize = options.imageSize;
  pack.displaySize = options.displaySize;
  const size_t smallBytes = static_cast<size_t>(options.imageSize * options.imageSize * 3);
  const size_t largeBytes = static_cast<size_t>(options.displaySize * options.displaySize * 3);
  std::unordered_map<std::string, int> groupSize;
  std::map<std::string, int64_t> perStyle;
  std::set<int> keptFamilies;
  for (size_t i = 0; i < n; ++i) {
    std::string key(reinterpret_cast<const char*>(small[i].data), smallBytes);
    if (++groupSize[key] > 1) {
      ++report.duplicatesDropped;
      if (groupSize[key] == 2) ++report.duplicateGroups;
      continue;
    }
    pack.images.insert(pack.images.end(), small[i].data, small[i].data + smallBytes);
    pack.displayImages.insert(pack.displayImages.end(), large[i].data, large[i].data + largeBytes);
    ++perStyle[candidates[i].record.style];
    keptFamilies.insert(candidates[i].record.family);
    pack.records.push_back(candidates[i].record);
  }
  report.images = static_cast<int64_t>(pack.records.size());
  report.families = static_cast<int64_t>(keptFamilies.size());
  report.perStyle.assign(perStyle.begin(), perStyle.end());

  QJsonObject provenance;
  provenance["sources"] =
      QJsonArray{"emoji-datasource-google (Noto Emoji, Apache-2.0)",
                 "emoji-datasource-twitter (Twemoji, CC-BY 4.0)",
                 "fluentui-emoji (Fluent Emoji, MIT)", "emojibase-data (CLDR labels, MIT)"};
  provenance["licences"] = "see LICENSES.md beside this file";
  provenance["unmatched_fluent_files"] = static_cast<qint64>(report.unmatched.size());
  provenance["duplicates_dropped"] = static_cast<qint64>(report.duplicatesDropped);
  provenance["margin"] = options.margin;
  pack.provenanceJson = QJsonDocument(provenance).toJson(QJsonDocument::Compact).toStdString();
  job.progress(1.0, "compressing");
  writeImagePack(options.outputPath, pack);
  return report;
}

}  // namespace fastgda
