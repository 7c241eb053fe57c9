#include "counterfactual/report.h"

#include <torch/torch.h>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <algorithm>
#include <cmath>
#include <memory>
#include <opencv2/imgproc.hpp>

#include "bundle/bundle.h"
#include "counterfactual/measure.h"
#include "counterfactual/plan.h"
#include "data/dataset.h"
#include "data/image_codec.h"
#include "features/feature_space.h"
#include "model/image_tensor.h"
#include "util/error.h"
#include "util/files.h"

namespace fastgda {
namespace {

constexpr const char* kFormat = "fastgda-counterfactual-report";
// 2 added the protocol, the baseline, arm sizes, family shares, the null and detectable
// differences; a version 1 report reads with those empty.
constexpr int kVersion = 2;

QJsonObject jsonOf(const MeanAndError& e) {
  QJsonObject o;
  o["mean"] = e.mean;
  o["se"] = e.standardError;
  o["n"] = static_cast<qint64>(e.count);
  return o;
}

MeanAndError estimateFromJson(const QJsonValue& v) {
  const QJsonObject o = v.toObject();
  return {o["mean"].toDouble(), o["se"].toDouble(), o["n"].toInteger()};
}

QJsonArray strings(const std::vector<std::string>& v) {
  QJsonArray a;
  for (const std::string& s : v) a.append(QString::fromStdString(s));
  return a;
}

QJsonObject jsonOf(const PairedDifference& p) {
  QJsonObject o;
  o["difference"] = jsonOf(p.difference);
  o["higher"] = static_cast<qint64>(p.higher);
  o["lower"] = static_cast<qint64>(p.lower);
  o["sign_test_p"] = p.signTestP;
  o["detectable"] = p.detectable;
  return o;
}

PairedDifference pairedFromJson(const QJsonValue& v) {
  const QJsonObject o = v.toObject();
  PairedDifference p;
  p.difference = estimateFromJson(o["difference"]);
  p.higher = o["higher"].toInteger();
  p.lower = o["lower"].toInteger();  // 0 in reports written before it was kept
  p.signTestP = o["sign_test_p"].toDouble(1);
  p.detectable = o["detectable"].toDouble();
  return p;
}

// first − second over the queries both have (query -> value).
PairedDifference pairUp(const std::map<std::string, double>& first,
                        const std::map<std::string, double>& second) {
  std::vector<double> a, b;
  for (const auto& [id, value] : first) {
    const auto other = second.find(id);
    if (other == second.end()) continue;
    a.push_back(value);
    b.push_back(other->second);
  }
  return pairedDifference(a, b);
}

std::vector<std::string> stringsFromJson(const QJsonValue& v) {
  std::vector<std::string> out;
  for (const QJsonValue& s : v.toArray()) out.push_back(s.toString().toStdString());
  return out;
}

// A regenerated query image, RGB float [3, S, S] in [-1, 1]; errors name the file.
torch::Tensor readImage(const std::string& path) {
  if (!QFileInfo::exists(QString::fromStdString(path)))
    fail(path, ": missing (measure the arm again)");
  const cv::Mat rgb = decodeImageFile(path);
  if (rgb.channels() != 3)
    fail(path, ": expected an RGB image, found ", rgb.channels(), " channels");
  return rgbToTensor(rgb)[0];
}

}  // namespace

std::string CounterfactualReport::toJson() const {
  QJsonObject o;
  o["format"] = kFormat;
  o["version"] = kVersion;
  o["protocol"] = protocol;
  o["k"] = static_cast<qint64>(k);
  o["baseline"] = QString::fromStdString(baseline);
  QJsonObject sizes;
  for (const auto& [arm, size] : armSizes)
    sizes[QString::fromStdString(arm)] = static_cast<qint64>(size);
  o["arm_sizes"] = sizes;
  QJsonObject fit;
  fit["intercept"] = familyShare.intercept;
  fit["slope"] = familyShare.slope;
  fit["r"] = familyShare.r;
  fit["pairs"] = static_cast<qint64>(familyShare.pairs);
  o["family_share_fit"] = fit;
  o["measured"] = strings(measured);
  o["missing"] = strings(missing);
  QJsonArray ms;
  for (const MethodEffect& m : methods) {
    QJsonObject e;
    e["method"] = QString::fromStdString(m.method);
    e["arms"] = strings(m.arms);
    e["queries"] = static_cast<qint64>(m.deltaLoss.count);
    e["delta_loss"] = jsonOf(m.deltaLoss);
    e["delta_loss_vs_control"] = jsonOf(m.deltaLossVsControl);
    e["delta_g_mse"] = jsonOf(m.deltaGMse);
    e["delta_g_cnn"] = jsonOf(m.deltaGCnn);
    QJsonObject groups;
    for (const auto& [g, v] : m.groupDeltaLoss) groups[QString::fromStdString(g)] = v;
    e["group_delta_loss"] = groups;
    e["overlap"] = m.overlap;
    e["vs_random"] = jsonOf(m.vsRandom);
    e["family_share"] = m.familyShare;
    if (m.nullDeltaLoss.count > 0) {
      e["null_delta_loss"] = jsonOf(m.nullDeltaLoss);
      e["vs_null"] = jsonOf(m.vsNull);
    }
    ms.append(e);
  }
  o["methods"] = ms;
  QJsonArray ps;
  for (const MethodPair& p : pairs) {
    QJsonObject e;
    e["first"] = QString::fromStdString(p.first);
    e["second"] = QString::fromStdString(p.second);
    e["delta_loss"] = jsonOf(p.deltaLoss);
    e["delta_g_mse"] = jsonOf(p.deltaGMse);
    e["delta_g_cnn"] = jsonOf(p.deltaGCnn);
    ps.append(e);
  }
  o["pairs"] = ps;
  QJsonArray qs;
  for (const QueryEffect& q : queries) {
    QJsonObject e;
    e["query"] = QString::fromStdString(q.query);
    e["group"] = QString::fromStdString(q.group);
    e["method"] = QString::fromStdString(q.method);
    e["arm"] = QString::fromStdString(q.arm);
    e["delta_loss"] = q.deltaLoss;
    e["delta_loss_vs_control"] = q.deltaLossVsControl;
    e["delta_g_mse"] = q.deltaGMse;
    e["delta_g_cnn"] = q.deltaGCnn;
    e["family_share"] = q.familyShare;
    if (!q.own) e["own"] = false;
    qs.append(e);
  }
  o["queries"] = qs;
  return QJsonDocument(o).toJson().toStdString();
}

CounterfactualReport CounterfactualReport::fromJson(const std::string& text,
                                                    const std::string& source) {
  QJsonParseError error;
  const QJsonDocument doc = QJsonDocument::fromJson(QByteArray::fromStdString(text), &error);
  if (!doc.isObject())
    fail(source, ": not a JSON object (", error.errorString().toStdString(), ")");
  const QJsonObject o = doc.object();
  checkFormat(source, o, kFormat, o["version"].toInt() == 1 ? 1 : kVersion);  // 1 reads as well
  CounterfactualReport r;
  r.protocol = o["protocol"].toInt(2);
  r.k = o["k"].toInteger();
  r.baseline = o["baseline"].toString(QStringLiteral("random")).toStdString();
  const QJsonObject sizes = o["arm_sizes"].toObject();
  for (auto a = sizes.begin(); a != sizes.end(); ++a)
    r.armSizes[a.key().toStdString()] = a.value().toInteger();
  const QJsonObject fit = o["family_share_fit"].toObject();
  r.familyShare = {fit["intercept"].toDouble(), fit["slope"].toDouble(), fit["r"].toDouble(),
                   fit["pairs"].toInteger()};
  r.measured = stringsFromJson(o["measured"]);
  r.missing = stringsFromJson(o["missing"]);
  for (const QJsonValue& v : o["methods"].toArray()) {
    const QJsonObject e = v.toObject();
    MethodEffect m;
    m.method = e["method"].toString().toStdString();
    if (m.method.empty()) fail(source, ": a method has no name");
    m.arms = stringsFromJson(e["arms"]);
    m.deltaLoss = estimateFromJson(e["delta_loss"]);
    m.deltaLossVsControl = estimateFromJson(e["delta_loss_vs_control"]);
    m.deltaGMse = estimateFromJson(e["delta_g_mse"]);
    m.deltaGCnn = estimateFromJson(e["delta_g_cnn"]);
    const QJsonObject groups = e["group_delta_loss"].toObject();
    for (auto g = groups.begin(); g != groups.end(); ++g)
      m.groupDeltaLoss[g.key().toStdString()] = g.value().toDouble();
    m.overlap = e["overlap"].toDouble();
    m.vsRandom = pairedFromJson(e["vs_random"]);
    m.familyShare = e["family_share"].toDouble();
    m.nullDeltaLoss = estimateFromJson(e["null_delta_loss"]);
    m.vsNull = pairedFromJson(e["vs_null"]);
    r.methods.push_back(std::move(m));
  }
  for (const QJsonValue& v : o["pairs"].toArray()) {  // absent in reports written before pairs
    const QJsonObject e = v.toObject();
    r.pairs.push_back({e["first"].toString().toStdString(), e["second"].toString().toStdString(),
                       pairedFromJson(e["delta_loss"]), pairedFromJson(e["delta_g_mse"]),
                       pairedFromJson(e["delta_g_cnn"])});
  }
  for (const QJsonValue& v : o["queries"].toArray()) {
    const QJsonObject e = v.toObject();
    r.queries.push_back({e["query"].toString().toStdString(), e["group"].toString().toStdString(),
                         e["method"].toString().toStdString(), e["arm"].toString().toStdString(),
                         e["delta_loss"].toDouble(), e["delta_loss_vs_control"].toDouble(),
                         e["delta_g_mse"].toDouble(), e["delta_g_cnn"].toDouble(),
                         e["family_share"].toDouble(), e["own"].toBool(true)});
  }
  return r;
}

CounterfactualReport loadCounterfactualReport(const std::string& path) {
  const std::vector<char> bytes = readFileBytes(path);
  return CounterfactualReport::fromJson(std::string(bytes.begin(), bytes.end()), path);
}

std::string counterfactualReportPath(const Bundle& bundle, int protocol) {
  return bundle.path(protocol == 2
                         ? "counterfactual/report.json"
                         : "counterfactual/report-v" + std::to_string(protocol) + ".json");
}

FamilyShareFit fitFamilyShare(const std::vector<double>& shares,
                              const std::vector<double>& values) {
  const LineFit fit = fitLine(shares, values);
  return {fit.intercept, fit.slope, fit.r,
          static_cast<int64_t>(std::min(shares.size(), values.size()))};
}

CounterfactualReport makeCounterfactualReport(const Bundle& bundle, const CounterfactualPlan& plan,
                                              const JobContext& job) {
  CounterfactualReport report;
  report.protocol = plan.version;
  report.k = plan.k;
  report.baseline = plan.version >= 3 ? "matched-random" : "random";
  std::map<std::string, ArmMeasurement> measured;
  for (const CounterfactualArm& a : plan.arms) {
    report.armSizes[a.name] = static_cast<int64_t>(a.removed.size());
    const std::string path = counterfactualMeasurementPath(bundle, plan, a.name);
    if (!QFileInfo::exists(QString::fromStdString(path))) {
      report.missing.push_back(a.name);
      continue;
    }
    measured.emplace(a.name, ArmMeasurement::load(path));
    report.measured.push_back(a.name);
  }
  const std::string referenceArm = plan.reference().name;
  const auto ref = measured.find(referenceArm);
  if (ref == measured.end())
    fail(
        "counterfactual report: the reference arm is not measured yet (run `fastgda "
        "counterfactual train --plan v",
        plan.version, " --arm ", referenceArm, "`, then `fastgda counterfactual measure --plan v",
        plan.version, " --arm ", referenceArm, "`)");
  const ArmMeasurement& reference = ref->second;
  for (const auto& [name, m] : measured) {
    if (!m.retrainedWith.empty() && !reference.retrainedWith.empty() &&
        m.retrainedWith != reference.retrainedWith)
      fail(counterfactualMeasurementPath(bundle, plan, name), ": retrained with LibTorch ",
           m.retrainedWith, ", the reference with ", reference.retrainedWith,
           " (the last bits of every step differ between versions; retrain both with one)");
    if (m.settingsJson != reference.settingsJson)
      fail(counterfactualMeasurementPath(bundle, plan, name), ": measured with settings ",
           m.settingsJson, ", the reference with ", reference.settingsJson,
           " (measure both the same way)");
    if (m.from != reference.from)
      fail(counterfactualMeasurementPath(bundle, plan, name),
           ": its model was retrained from another shipped model than the reference's");
    if (m.control.size() != reference.control.size())
      fail(counterfactualMeasurementPath(bundle, plan, name), ": ", m.control.size(),
           " control images, the reference has ", reference.control.size());
  }

  const std::unique_ptr<Dataset> data = bundle.openDataset();
  FeatureSources sources;
  sources.bundle = &bundle;
  sources.dataset = data.get();
  const std::unique_ptr<FeatureSpace> cnn = makeFeatureSpace("cnn", sources, job);
  const std::string imageDir = counterfactualMeasurementDir(bundle, plan.version) + "/";
  const auto image = [&](const ArmMeasurement& m, const std::string& query) {
    return readImage(imageDir + m.query(query).image);
  };
  const auto cnnFeature = [&](const torch::Tensor& img) {
    torch::NoGradGuard noGrad;
    return torch::nn::functional::normalize(cnn->extract(img.unsqueeze(0), {""}),
                                            torch::nn::functional::NormalizeFuncOptions().dim(1));
  };
  std::map<std::string, double> controlShift;  // arm -> mean control ΔL
  for (const auto& [name, m] : measured) {
    double s = 0;
    for (size_t i = 0; i < m.control.size(); ++i) {
      if (m.control[i].first != reference.control[i].first)
        fail(counterfactualMeasurementPath(bundle, plan, name), ": control image ", i, " is ",
             m.control[i].first, ", the reference's is ", reference.control[i].first);
      s += m.control[i].second - reference.control[i].second;
    }
    controlShift[name] = m.control.empty() ? 0 : s / static_cast<double>(m.control.size());
  }

  std::map<std::string, std::string> groupOf;
  for (const auto& [group, ids] : plan.groups)
    for (const std::string& id : ids) groupOf[id] = group;
  // Each query's family (sorted training indices): protocol 3's plan keeps it; for protocol 2,
  // the family of the training image whose caption is the prompt (none: an empty family).
  std::map<std::string, std::vector<int64_t>> familyOf = plan.families;
  if (familyOf.empty())
    for (const QuerySpec& q : plan.queries)
      familyOf[q.id] = data->familyMembers(data->familyOfCaption(q.prompt));
  const auto familyShare = [&](const CounterfactualArm& arm, const std::string& query) {
    const std::vector<int64_t>& family = familyOf[query];
    if (family.empty()) return 0.0;
    int64_t removed = 0;
    for (int64_t i : family)
      removed += std::binary_search(arm.removed.begin(), arm.removed.end(), i);
    return static_cast<double>(removed) / static_cast<double>(family.size());
  };

  std::vector<std::string> methods{report.baseline};
  if (plan.version >= 3) methods.push_back("family");
  methods.insert(methods.end(), plan.methods.begin(), plan.methods.end());
  // One measure of one method's own rows so far, by query: what the pairings compare.
  const auto byQuery = [&](const std::string& method, double QueryEffect::*measure) {
    std::map<std::string, double> values;
    for (const QueryEffect& q : report.queries)
      if (q.method == method && q.own) values[q.query] = q.*measure;
    return values;
  };
  std::vector<double> fitShares, fitDeltas;
  for (const std::string& method : methods) {
    MethodEffect effect;
    effect.method = method;
    std::vector<double> dl, dlc, dgm, dgc, overlaps, shares;
    std::map<std::string, std::vector<double>> byGroup;
    std::map<std::string, std::vector<double>> nullByQuery;  // a query on other groups' arms
    for (const CounterfactualArm& arm : plan.arms) {
      if (arm.method != method || !measured.count(arm.name)) continue;
      const ArmMeasurement& m = measured.at(arm.name);
      effect.arms.push_back(arm.name);
      for (const auto& [id, group] : groupOf) {
        // An arm of a group speaks for that group's queries (protocol 2's random for every
        // query); protocol 3 measures every arm on every query, the others' being the null.
        const bool own = arm.group.empty() || arm.group == group;
        if (!own && plan.version < 3) continue;
        job.checkCancelled();
        QueryEffect q;
        q.query = id;
        q.group = group;
        q.method = method;
        q.arm = arm.name;
        q.own = own;
        q.deltaLoss = m.query(id).loss - reference.query(id).loss;
        q.deltaLossVsControl = q.deltaLoss - controlShift[arm.name];
        q.familyShare = familyShare(arm, id);
        if (!own) {
          nullByQuery[id].push_back(q.deltaLoss);
          report.queries.push_back(q);
          continue;
        }
        const torch::Tensor a = image(m, id), b = image(reference, id);
        q.deltaGMse = ((a - b) / 2).pow(2).mean().item<double>();
        q.deltaGCnn = 1 - (cnnFeature(a) * cnnFeature(b)).sum().item<double>();
        dl.push_back(q.deltaLoss);
        dlc.push_back(q.deltaLossVsControl);
        dgm.push_back(q.deltaGMse);
        dgc.push_back(q.deltaGCnn);
        shares.push_back(q.familyShare);
        fitShares.push_back(q.familyShare);
        fitDeltas.push_back(q.deltaLoss);
        byGroup[group].push_back(q.deltaLoss);
        const auto ov = plan.overlap.find(method);
        if (ov != plan.overlap.end() && ov->second.count(id)) overlaps.push_back(ov->second.at(id));
        report.queries.push_back(q);
      }
    }
    if (effect.arms.empty()) continue;
    effect.deltaLoss = meanAndError(dl);
    effect.deltaLossVsControl = meanAndError(dlc);
    effect.deltaGMse = meanAndError(dgm);
    effect.deltaGCnn = meanAndError(dgc);
    for (const auto& [g, v] : byGroup) effect.groupDeltaLoss[g] = meanAndError(v).mean;
    effect.overlap = meanAndError(overlaps).mean;
    effect.familyShare = meanAndError(shares).mean;
    if (!nullByQuery.empty()) {
      std::map<std::string, double> nullMean;  // per query, over the other groups' arms
      std::vector<double> all;
      for (const auto& [id, values] : nullByQuery) {
        nullMean[id] = meanAndError(values).mean;
        all.push_back(nullMean[id]);
      }
      effect.nullDeltaLoss = meanAndError(all);
      effect.vsNull = pairUp(byQuery(method, &QueryEffect::deltaLoss), nullMean);
    }
    if (method != report.baseline)
      effect.vsRandom = pairUp(byQuery(method, &QueryEffect::deltaLoss),
                               byQuery(report.baseline, &QueryEffect::deltaLoss));
    report.methods.push_back(std::move(effect));
  }
  report.familyShare = fitFamilyShare(fitShares, fitDeltas);
  for (size_t i = 0; i < report.methods.size(); ++i)
    for (size_t j = i + 1; j < report.methods.size(); ++j) {
      const std::string& a = report.methods[i].method;
      const std::string& b = report.methods[j].method;
      if (a == report.baseline || b == report.baseline) continue;
      const auto pair = [&](double QueryEffect::*measure) {
        return pairUp(byQuery(a, measure), byQuery(b, measure));
      };
      report.pairs.push_back({a, b, pair(&QueryEffect::deltaLoss), pair(&QueryEffect::deltaGMse),
                              pair(&QueryEffect::deltaGCnn)});
    }
  return report;
}

}  // namespace fastgda
