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
// Version 3's arms without a ranking of their own (no "top" entry).
constexpr const char* kFamilyArm = "family";
constexpr const char* kMatchedRandomArm = "matched-random";

QJsonArray indexArray(const std::vector<int64_t>& v) {
  QJsonArray a;
  for (int64_t i : v) a.append(static_cast<qint64>(i));
  return a;
}

}  // namespace

const CounterfactualArm& CounterfactualPlan::reference() const {
  for (const CounterfactualArm& a : arms)
    if (a.method.empty()) return a;
  fail("counterfactual plan: no reference arm (an arm with no method)");
}

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

std::string CounterfactualPlan::toJson() const {
  QJsonObject o;
  o["format"] = kFormat;
  o["version"] = version;
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
  if (version >= 3) {
    QJsonObject fam, sub;
    for (const auto& [id, indices] : families)
      fam[QString::fromStdString(id)] = indexArray(indices);
    for (const auto& [id, name] : subcategories)
      sub[QString::fromStdString(id)] = QString::fromStdString(name);
    o["families"] = fam;
    o["subcategories"] = sub;
    o["subcategory_pairs"] = static_cast<qint64>(subcategoryPairs);
  }
  return QJsonDocument(o).toJson().toStdString();
}

void CounterfactualPlan::save(const std::string& path) const {
  writeFileAtomically(path, toJson());
}

CounterfactualPlan CounterfactualPlan::load(const std::string& path) {
  const std::vector<char> bytes = readFileBytes(path);
  QJsonParseError error;
  const QJsonDocument doc = QJsonDocument::fromJson(
      QByteArray(bytes.data(), static_cast<qsizetype>(bytes.size())), &error);
  if (!doc.isObject()) fail(path, ": not JSON (", error.errorString().toStdString(), ")");
  const QJsonObject o = doc.object();
  const int version = o["version"].toInt(-1);
  checkFormat(path, o, kFormat, version);  // the format's name
  if (version != 2 && version != 3)
    fail(path, ": ", kFormat, " version ", version, " is not supported (this build reads 2 and 3)");
  CounterfactualPlan p;
  p.version = version;
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
    if (arm.group.empty() || arm.method == kFamilyArm || arm.method == kMatchedRandomArm) continue;
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
  if (p.version >= 3) {
    const QJsonObject fam = o["families"].toObject();
    const QJsonObject sub = o["subcategories"].toObject();
    for (const QuerySpec& q : p.queries) {
      const QString id = QString::fromStdString(q.id);
      if (!fam[id].isArray() || !sub[id].isString())
        fail(path, ": fields 'families' and 'subcategories' need query '", q.id, "'");
      for (const QJsonValue& i : fam[id].toArray()) {
        if (!i.isDouble() || i.toInteger(-1) < 0)
          fail(path, ": field 'families' of query '", q.id, "' has an index that is not >= 0");
        p.families[q.id].push_back(i.toInteger());
      }
      p.subcategories[q.id] = sub[id].toString().toStdString();
    }
    p.subcategoryPairs = o["subcategory_pairs"].toInteger();
  }
  return p;
}

namespace {

// The stored test queries; each must rank the whole training set, at least `depth` deep.
std::vector<TeacherResult> testQueries(const Bundle& bundle, size_t atLeast, int64_t depth) {
  const std::string testDir = bundle.path("teacher/test");
  std::vector<TeacherResult> results = loadTeacherResults(testDir);
  if (results.size() < atLeast)
    fail(testDir, ": ", results.size(), " test queries, fewer than the ", atLeast,
         " groups (make them with `fastgda teacher --batch`)");
  for (const TeacherResult& r : results)
    if (!r.allCandidates || static_cast<int64_t>(r.ranking.indices.size()) < depth)
      fail(testDir, "/", r.query.id, ".json: ranks ", r.ranking.indices.size(),
           " images, a test query needs the whole training set");
  return results;
}

// A method the plan ranks with, and the prefix of its arms: teacher, student; any other method
// by its name (raw-cnn+text).
struct PlanMethod {
  std::unique_ptr<AttributionMethod> method;
  std::string name, prefix;
};

std::vector<PlanMethod> openPlanMethods(const Bundle& bundle,
                                        std::shared_ptr<TextToImageModel> model,
                                        const Dataset& data, const CounterfactualOptions& o,
                                        const JobContext& job) {
  std::vector<PlanMethod> out;
  for (const std::string& requested : o.methods) {
    PlanMethod m;
    m.method = openMethod(requested, {&bundle, model, &data, o.seed, {}}, job);
    m.name = m.method->name();
    if (m.name == "random")
      fail("counterfactual plan: 'random' is the plan's own arm; name the methods to test");
    for (const PlanMethod& other : out)
      if (other.name == m.name) fail("counterfactual plan: method '", m.name, "' is named twice");
    m.prefix = m.name.rfind("student:", 0) == 0 ? "student" : m.name;
    std::replace(m.prefix.begin(), m.prefix.end(), ':', '-');
    std::replace(m.prefix.begin(), m.prefix.end(), '/', '-');
    out.push_back(std::move(m));
  }
  return out;
}

std::vector<int64_t> rankQuery(PlanMethod& m, const MethodQuery& q, int64_t depth,
                               const JobContext& job) {
  job.checkCancelled();
  if (!m.method->answers(q))
    fail("counterfactual plan: method '", m.name, "' has no ranking for test query '", q.id, "'");
  return m.method->rank(q, depth, job).indices;
}

// Each query's share of its top K that the rest of its group also has in their top K (grouped
// removal overstates a single query's effect by that much).
void addOverlap(CounterfactualPlan& plan, const std::string& method,
                const std::vector<std::string>& ids,
                const std::vector<std::vector<int64_t>>& tops) {
  for (size_t q = 0; q < ids.size(); ++q) {
    std::set<int64_t> others;
    for (size_t p = 0; p < ids.size(); ++p)
      if (p != q) others.insert(tops[p].begin(), tops[p].end());
    int64_t shared = 0;
    for (int64_t i : tops[q]) shared += others.count(i) > 0;
    plan.overlap[method][ids[q]] = double(shared) / double(plan.k);
    plan.top[method][ids[q]] = tops[q];
  }
}

std::vector<int64_t> unionOf(const std::vector<std::vector<int64_t>>& lists) {
  std::set<int64_t> all;
  for (const auto& l : lists) all.insert(l.begin(), l.end());
  return {all.begin(), all.end()};
}

CounterfactualPlan makePlanV2(const Bundle& bundle, std::shared_ptr<TextToImageModel> model,
                              const Dataset& data, const CounterfactualOptions& o,
                              const JobContext& job) {
  const std::vector<TeacherResult> results =
      testQueries(bundle, static_cast<size_t>(o.groups), o.k);

  // Similar queries together: by the category and subcategory of the caption's training image.
  std::vector<std::pair<std::string, size_t>> sortKeys;
  for (size_t q = 0; q < results.size(); ++q) {
    const int64_t found = data.indexOfCaption(results[q].query.prompt);
    const std::string key =
        found < 0 ? "~" : data.record(found).category + "/" + data.record(found).subcategory;
    sortKeys.emplace_back(key + "/" + results[q].query.prompt, q);
  }
  std::sort(sortKeys.begin(), sortKeys.end());
  CounterfactualPlan plan;
  plan.version = 2;
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
  const std::vector<MethodQuery> queries = storedQueries(*model, results);
  std::vector<PlanMethod> methods = openPlanMethods(bundle, model, data, o, job);
  plan.arms.push_back({"reference", "", "", {}});
  std::vector<CounterfactualArm> methodArms;
  double unionSizes = 0;
  for (PlanMethod& m : methods) {
    plan.methods.push_back(m.name);
    std::vector<std::vector<int64_t>> top;
    for (const MethodQuery& q : queries) top.push_back(rankQuery(m, q, o.k, job));
    for (size_t g = 0; g < members.size(); ++g) {
      std::vector<std::string> ids;
      std::vector<std::vector<int64_t>> tops;
      for (size_t q : members[g]) {
        ids.push_back(results[q].query.id);
        tops.push_back(top[q]);
      }
      addOverlap(plan, m.name, ids, tops);
      const std::vector<int64_t> removed = unionOf(tops);
      unionSizes += static_cast<double>(removed.size());
      methodArms.push_back(
          {m.prefix + "-" + plan.groups[g].first, m.name, plan.groups[g].first, removed});
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

// Version 3's groups: each subcategory's queries are dealt out in turn, starting with the
// smaller group, largest subcategories first, so that queries of one group share a subcategory
// as rarely as the data allow and the groups' sizes differ by at most one.
std::vector<std::vector<size_t>> dealBySubcategory(const std::vector<std::string>& subcategory,
                                                   const std::vector<std::string>& prompts,
                                                   int groups) {
  std::map<std::string, std::vector<size_t>> buckets;
  for (size_t q = 0; q < subcategory.size(); ++q) buckets[subcategory[q]].push_back(q);
  std::vector<std::vector<size_t>> order;
  for (auto& [name, members] : buckets) {
    std::sort(members.begin(), members.end(),
              [&](size_t a, size_t b) { return prompts[a] < prompts[b]; });
    order.push_back(members);
  }
  std::stable_sort(order.begin(), order.end(),
                   [](const auto& a, const auto& b) { return a.size() > b.size(); });
  std::vector<std::vector<size_t>> members(static_cast<size_t>(groups));
  for (const std::vector<size_t>& bucket : order) {
    std::vector<size_t> byFill(members.size());
    for (size_t g = 0; g < byFill.size(); ++g) byFill[g] = g;
    std::stable_sort(byFill.begin(), byFill.end(),
                     [&](size_t a, size_t b) { return members[a].size() < members[b].size(); });
    for (size_t j = 0; j < bucket.size(); ++j)
      members[byFill[j % byFill.size()]].push_back(bucket[j]);
  }
  return members;
}

CounterfactualPlan makePlanV3(const Bundle& bundle, std::shared_ptr<TextToImageModel> model,
                              const Dataset& data, const CounterfactualOptions& o,
                              const JobContext& job) {
  const std::vector<TeacherResult> results =
      testQueries(bundle, static_cast<size_t>(o.groups), o.k);
  std::map<std::string, std::vector<int64_t>> subcategoryMembers;
  for (int64_t i = 0; i < data.size(); ++i) {
    const ImageRecord& r = data.record(i);
    subcategoryMembers[r.category + "/" + r.subcategory].push_back(i);
  }
  CounterfactualPlan plan;
  plan.version = 3;
  plan.k = o.k;
  plan.seed = o.seed;
  std::vector<std::string> subcategory, prompts;
  std::vector<std::vector<int64_t>> family;
  for (const TeacherResult& r : results) {
    const int64_t found = data.indexOfCaption(r.query.prompt);
    if (found < 0 || data.record(found).family < 0)
      fail(bundle.path("teacher/test/" + r.query.id + ".json"), ": the prompt '", r.query.prompt,
           "' is no training caption with a family, so protocol 3 cannot take out its family");
    const ImageRecord& caption = data.record(found);
    subcategory.push_back(caption.category + "/" + caption.subcategory);
    prompts.push_back(r.query.prompt);
    family.push_back(data.familyMembers(caption.family));
    plan.families[r.query.id] = family.back();
    plan.subcategories[r.query.id] = subcategory.back();
  }
  const std::vector<std::vector<size_t>> members =
      dealBySubcategory(subcategory, prompts, o.groups);
  for (size_t g = 0; g < members.size(); ++g) {
    std::vector<std::string> ids;
    std::map<std::string, int64_t> perSubcategory;
    for (size_t q : members[g]) {
      ids.push_back(results[q].query.id);
      plan.queries.push_back(results[q].query);
      plan.subcategoryPairs += perSubcategory[subcategory[q]]++;
    }
    plan.groups.emplace_back(std::string(1, static_cast<char>('A' + g)), ids);
  }

  // Each method's top K per query once the query's family is out of its ranking.
  const std::vector<MethodQuery> queries = storedQueries(*model, results);
  std::vector<PlanMethod> methods = openPlanMethods(bundle, model, data, o, job);
  std::map<std::string, std::vector<std::vector<int64_t>>> top;  // method -> per query
  for (PlanMethod& m : methods) {
    plan.methods.push_back(m.name);
    for (size_t q = 0; q < queries.size(); ++q) {
      const std::vector<int64_t> ranked =
          rankQuery(m, queries[q], o.k + static_cast<int64_t>(family[q].size()), job);
      std::vector<int64_t> outside;
      for (int64_t i : ranked)
        if (!std::binary_search(family[q].begin(), family[q].end(), i) &&
            static_cast<int64_t>(outside.size()) < o.k)
          outside.push_back(i);
      top[m.name].push_back(outside);
    }
  }

  plan.arms.push_back({"reference-v3", "", "", {}});
  for (size_t g = 0; g < members.size(); ++g) {
    const std::string group = plan.groups[g].first;
    std::vector<std::string> ids;
    std::vector<std::vector<int64_t>> families;
    for (size_t q : members[g]) {
      ids.push_back(results[q].query.id);
      families.push_back(family[q]);
    }
    plan.arms.push_back(
        {std::string(kFamilyArm) + "-" + group, kFamilyArm, group, unionOf(families)});
    double methodSizes = 0;
    for (const PlanMethod& m : methods) {
      std::vector<std::vector<int64_t>> tops;
      for (size_t q : members[g]) tops.push_back(top[m.name][q]);
      addOverlap(plan, m.name, ids, tops);
      plan.arms.push_back({m.prefix + "-nf-" + group, m.name, group, unionOf(tops)});
      methodSizes += static_cast<double>(plan.arms.back().removed.size());
    }
    // Matched random: the methods' mean size, one image per query in turn, each from a seeded
    // shuffle of the query's subcategory outside its family.
    const auto target = static_cast<size_t>(std::llround(methodSizes / double(methods.size())));
    std::vector<std::vector<int64_t>> pools;
    for (size_t j = 0; j < members[g].size(); ++j) {
      const size_t q = members[g][j];
      std::vector<int64_t> pool;
      for (int64_t i : subcategoryMembers.at(subcategory[q]))
        if (!std::binary_search(family[q].begin(), family[q].end(), i)) pool.push_back(i);
      at::Generator gen = at::make_generator<at::CPUGeneratorImpl>(
          (o.seed * 1000003ULL + 29) ^ (static_cast<uint64_t>(g) << 32 | j));
      const torch::Tensor perm =
          torch::randperm(static_cast<int64_t>(pool.size()), gen, torch::kLong);
      std::vector<int64_t> shuffled;
      for (int64_t k = 0; k < perm.numel(); ++k)
        shuffled.push_back(pool[static_cast<size_t>(perm[k].item<int64_t>())]);
      pools.push_back(shuffled);
    }
    std::set<int64_t> drawn;
    std::vector<size_t> next(pools.size(), 0);
    for (bool progress = true; drawn.size() < target && progress;) {
      progress = false;
      for (size_t j = 0; j < pools.size() && drawn.size() < target; ++j) {
        while (next[j] < pools[j].size() && drawn.count(pools[j][next[j]])) ++next[j];
        if (next[j] < pools[j].size()) {
          drawn.insert(pools[j][next[j]++]);
          progress = true;
        }
      }
    }
    plan.arms.push_back({std::string(kMatchedRandomArm) + "-" + group,
                         kMatchedRandomArm,
                         group,
                         {drawn.begin(), drawn.end()}});
  }
  return plan;
}

}  // namespace

std::string counterfactualPlanPath(const Bundle& bundle, int version) {
  return bundle.path(version == 2 ? "counterfactual/plan.json"
                                  : "counterfactual/plan-v" + std::to_string(version) + ".json");
}

std::string counterfactualMeasurementDir(const Bundle& bundle, int version) {
  return bundle.path(version == 2 ? "counterfactual/measurements"
                                  : "counterfactual/measurements-v" + std::to_string(version));
}

CounterfactualPlan makeCounterfactualPlan(const Bundle& bundle,
                                          std::shared_ptr<TextToImageModel> model,
                                          const Dataset& data, const CounterfactualOptions& o,
                                          const JobContext& job) {
  if (o.k < 1 || o.groups < 1) fail("counterfactual plan: k and groups must be >= 1");
  if (o.version == 2) return makePlanV2(bundle, model, data, o, job);
  if (o.version == 3) return makePlanV3(bundle, model, data, o, job);
  fail("counterfactual plan: protocol version ", o.version, " does not exist (2 or 3)");
}

}  // namespace fastgda
