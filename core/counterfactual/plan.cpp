#include "counterfactual/plan.h"

#include <torch/torch.h>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <algorithm>
#include <cmath>
#include <set>

#include "bundle/bundle.h"
#include "data/dataset.h"
#include "methods/attribution_method.h"
#include "model/model.h"
#include "teacher/results.h"
#include "util/error.h"
#include "util/files.h"

namespace fastgda {
namespace {

constexpr const char* kFormat = "fastgda-counterfactual-plan";
constexpr int kVersion = 2;

QJsonArray indexArray(const std::vector<int64_t>& v) {
  QJsonArray a;
  for (int64_t i : v) a.append(static_cast<qint64>(i));
  return a;
}

}  // namespace

const CounterfactualArm& CounterfactualPlan::arm(const std::string& name) const {
  std::string names;
  for (const CounterfactualArm& a : arms) {
    if (a.name == name) return a;
    names += (names.empty() ? "" : ", ") + a.name;
  }
  fail("counterfactual plan: no arm '", name, "' (the plan has ", names, ")");
}

const QuerySpec& CounterfactualPlan::query(const std::string& id) const {
  for (const QuerySpec& q : queries)
    if (q.id == id) return q;
  fail("counterfactual plan: no query '", id, "'");
}

std::string CounterfactualPlan::json() const {
  QJsonObject o;
  o["format"] = kFormat;
  o["version"] = kVersion;
  o["k"] = static_cast<qint64>(k);
  o["seed"] = static_cast<qint64>(seed);
  QJsonArray m;
  for (const std::string& s : methods) m.append(QString::fromStdString(s));
  o["methods"] = m;
  QJsonArray g;
  for (const auto& [name, ids] : groups) {
    QJsonObject e;
    e["name"] = QString::fromStdString(name);
    QJsonArray q;
    for (const std::string& id : ids) q.append(QString::fromStdString(id));
    e["queries"] = q;
    g.append(e);
  }
  o["groups"] = g;
  QJsonArray q;
  for (const QuerySpec& spec : queries) q.append(querySpecJson(spec));
  o["queries"] = q;
  QJsonArray a;
  for (const CounterfactualArm& arm : arms) {
    QJsonObject e;
    e["name"] = QString::fromStdString(arm.name);
    e["method"] = QString::fromStdString(arm.method);
    e["group"] = QString::fromStdString(arm.group);
    e["removed"] = indexArray(arm.removed);
    a.append(e);
  }
  o["arms"] = a;
  QJsonObject topJson;
  for (const auto& [method, perQuery] : top) {
    QJsonObject e;
    for (const auto& [id, indices] : perQuery) e[QString::fromStdString(id)] = indexArray(indices);
    topJson[QString::fromStdString(method)] = e;
  }
  o["top"] = topJson;
  QJsonObject ov;
  for (const auto& [method, perQuery] : overlap) {
    QJsonObject e;
    for (const auto& [id, share] : perQuery) e[QString::fromStdString(id)] = share;
    ov[QString::fromStdString(method)] = e;
  }
  o["overlap"] = ov;
  return QJsonDocument(o).toJson().toStdString();
}

void CounterfactualPlan::save(const std::string& path) const {
  writeFileAtomically(path, json());
}

CounterfactualPlan CounterfactualPlan::load(const std::string& path) {
  const std::vector<char> bytes = readFileBytes(path);
  QJsonParseError error;
  const QJsonDocument doc = QJsonDocument::fromJson(
      QByteArray(bytes.data(), static_cast<qsizetype>(bytes.size())), &error);
  if (!doc.isObject()) fail(path, ": not JSON (", error.errorString().toStdString(), ")");
  const QJsonObject o = doc.object();
  checkFormat(path, o, kFormat, kVersion);
  CounterfactualPlan p;
  p.k = o["k"].toInteger();
  p.seed = static_cast<uint64_t>(o["seed"].toInteger());
  if (p.k < 1) fail(path, ": field 'k' must be >= 1");
  for (const QJsonValue& v : o["methods"].toArray())
    p.methods.push_back(v.toString().toStdString());
  for (const QJsonValue& v : o["groups"].toArray()) {
    std::vector<std::string> ids;
    for (const QJsonValue& q : v.toObject()["queries"].toArray())
      ids.push_back(q.toString().toStdString());
    p.groups.emplace_back(v.toObject()["name"].toString().toStdString(), ids);
  }
  for (const QJsonValue& v : o["queries"].toArray())
    p.queries.push_back(parseQuerySpec(path, v.toObject()));
  for (const auto& [group, ids] : p.groups)
    for (const std::string& id : ids)
      if (std::none_of(p.queries.begin(), p.queries.end(),
                       [&](const QuerySpec& q) { return q.id == id; }))
        fail(path, ": group ", group, "'s query '", id, "' is not in field 'queries'");
  for (const QJsonValue& v : o["arms"].toArray()) {
    const QJsonObject e = v.toObject();
    CounterfactualArm arm;
    arm.name = e["name"].toString().toStdString();
    arm.method = e["method"].toString().toStdString();
    arm.group = e["group"].toString().toStdString();
    for (const QJsonValue& i : e["removed"].toArray()) {
      if (!i.isDouble() || i.toInteger(-1) < 0)
        fail(path, ": arm '", arm.name, "' has a removed index that is not an integer >= 0");
      arm.removed.push_back(i.toInteger());
    }
    if (arm.name.empty()) fail(path, ": an arm has no name");
    p.arms.push_back(std::move(arm));
  }
  if (p.arms.empty()) fail(path, ": field 'arms' is missing or empty");
  // Each method's top K of each query: K indices, all in the removed set of its group's arm.
  const QJsonObject topJson = o["top"].toObject();
  for (const CounterfactualArm& arm : p.arms) {
    if (arm.group.empty()) continue;
    const std::set<int64_t> removed(arm.removed.begin(), arm.removed.end());
    const QJsonObject perQuery = topJson[QString::fromStdString(arm.method)].toObject();
    for (const auto& [group, ids] : p.groups) {
      if (group != arm.group) continue;
      for (const std::string& id : ids) {
        const QJsonArray a = perQuery[QString::fromStdString(id)].toArray();
        if (a.size() != p.k)
          fail(path, ": field 'top' has ", a.size(), " indices for method '", arm.method,
               "' and query '", id, "', expected k = ", p.k);
        std::vector<int64_t>& indices = p.top[arm.method][id];
        for (const QJsonValue& i : a) {
          if (!removed.count(i.toInteger(-1)))
            fail(path, ": field 'top' of method '", arm.method, "' and query '", id, "' has index ",
                 i.toInteger(-1), ", which arm '", arm.name, "' does not remove");
          indices.push_back(i.toInteger());
        }
      }
    }
  }
  const QJsonObject ov = o["overlap"].toObject();
  for (auto m = ov.begin(); m != ov.end(); ++m) {
    const QJsonObject perQuery = m.value().toObject();
    for (auto q = perQuery.begin(); q != perQuery.end(); ++q)
      p.overlap[m.key().toStdString()][q.key().toStdString()] = q.value().toDouble();
  }
  return p;
}

CounterfactualPlan makeCounterfactualPlan(const Bundle& bundle,
                                          std::shared_ptr<TextToImageModel> model,
                                          const Dataset& data, const CounterfactualOptions& o,
                                          const JobContext& job) {
  if (o.k < 1 || o.groups < 1) fail("counterfactual plan: k and groups must be >= 1");
  const std::string testDir = bundle.path("teacher/test");
  const std::vector<TeacherResult> results = loadTeacherResults(testDir);
  if (static_cast<int>(results.size()) < o.groups)
    fail(testDir, ": ", results.size(), " test queries, fewer than the ", o.groups,
         " groups (make them with `fastgda teacher --batch`)");
  for (const TeacherResult& r : results)
    if (!r.allCandidates || static_cast<int64_t>(r.ranking.indices.size()) < o.k)
      fail(testDir, "/", r.query.id, ".json: ranks ", r.ranking.indices.size(),
           " images, a test query needs the whole training set");

  // Similar queries together: by the category and subcategory of the caption's training image.
  std::map<std::string, const ImageRecord*> byCaption;
  for (const ImageRecord& r : data.records()) byCaption.emplace(r.caption, &r);
  std::vector<std::pair<std::string, size_t>> sortKeys;
  for (size_t q = 0; q < results.size(); ++q) {
    const auto found = byCaption.find(results[q].query.prompt);
    const std::string key =
        found == byCaption.end() ? "~" : found->second->category + "/" + found->second->subcategory;
    sortKeys.emplace_back(key + "/" + results[q].query.prompt, q);
  }
  std::sort(sortKeys.begin(), sortKeys.end());
  CounterfactualPlan plan;
  plan.k = o.k;
  plan.seed = o.seed;
  std::vector<std::vector<size_t>> members(static_cast<size_t>(o.groups));
  for (size_t j = 0; j < sortKeys.size(); ++j)
    members[j * static_cast<size_t>(o.groups) / sortKeys.size()].push_back(sortKeys[j].second);
  for (int g = 0; g < o.groups; ++g) {
    std::vector<std::string> ids;
    for (size_t q : members[static_cast<size_t>(g)]) {
      ids.push_back(results[q].query.id);
      plan.queries.push_back(results[q].query);
    }
    plan.groups.emplace_back(std::string(1, static_cast<char>('A' + g)), ids);
  }

  // Each method's top K per query, ranked through core/methods.
  std::map<std::string, std::vector<std::vector<int64_t>>> top;
  std::vector<std::string> armPrefixes;
  const std::vector<MethodQuery> queries = storedQueries(*model, results);
  for (const std::string& requested : o.methods) {
    const std::unique_ptr<AttributionMethod> method =
        openMethod(requested, {&bundle, model, &data, o.seed, {}}, job);
    const std::string name = method->name();
    if (name == "random")
      fail("counterfactual plan: 'random' is the plan's own arm; name the methods to test");
    if (top.count(name)) fail("counterfactual plan: method '", name, "' is named twice");
    for (const MethodQuery& q : queries) {
      job.checkCancelled();
      if (!method->answers(q))
        fail("counterfactual plan: method '", name, "' has no ranking for test query '", q.id, "'");
      top[name].push_back(method->rank(q, o.k, job).indices);
    }
    plan.methods.push_back(name);
    // Arm folders: teacher-A, student-A; any other method by its name (raw-cnn+text-A).
    std::string prefix = name.rfind("student:", 0) == 0 ? "student" : name;
    std::replace(prefix.begin(), prefix.end(), ':', '-');
    std::replace(prefix.begin(), prefix.end(), '/', '-');
    armPrefixes.push_back(prefix);
  }

  plan.arms.push_back({"reference", "", "", {}});
  std::vector<CounterfactualArm> methodArms;
  double unionSizes = 0;
  for (size_t m = 0; m < plan.methods.size(); ++m) {
    const std::string& method = plan.methods[m];
    const std::string& prefix = armPrefixes[m];
    for (size_t g = 0; g < members.size(); ++g) {
      std::set<int64_t> removed;
      for (size_t q : members[g]) removed.insert(top[method][q].begin(), top[method][q].end());
      for (size_t q : members[g]) {
        std::set<int64_t> others;
        for (size_t p : members[g])
          if (p != q) others.insert(top[method][p].begin(), top[method][p].end());
        int64_t shared = 0;
        for (int64_t i : top[method][q]) shared += others.count(i) > 0;
        plan.overlap[method][results[q].query.id] = double(shared) / double(o.k);
        plan.top[method][results[q].query.id] = top[method][q];
      }
      unionSizes += static_cast<double>(removed.size());
      methodArms.push_back({prefix + "-" + plan.groups[g].first,
                            method,
                            plan.groups[g].first,
                            {removed.begin(), removed.end()}});
    }
  }
  const int64_t randomSize = std::llround(unionSizes / static_cast<double>(methodArms.size()));
  at::Generator gen = at::make_generator<at::CPUGeneratorImpl>(o.seed * 1000003ULL + 17);
  const torch::Tensor perm = torch::randperm(data.size(), gen, torch::kLong);
  std::vector<int64_t> random(perm.data_ptr<int64_t>(), perm.data_ptr<int64_t>() + randomSize);
  std::sort(random.begin(), random.end());
  plan.arms.push_back({"random", "random", "", random});
  for (CounterfactualArm& a : methodArms) plan.arms.push_back(std::move(a));
  return plan;
}

}  // namespace fastgda
