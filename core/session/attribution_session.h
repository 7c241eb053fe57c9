// The studio's seam to the library: one bundle, its training set and model, and the three things
// done with them (generate a query, ask the student, run the teacher), with no torch types, so
// ui/ can include it without compiling LibTorch headers.
//
//   auto session = fastgda::AttributionSession::open(fastgda::defaultBundleDir());
//   fastgda::Query q = session->generate("red apple, google style", 1, 50, 4.0, job);
//   session->openStudent(job);                             // Error when the bundle has none
//   fastgda::Ranking fast = session->attributeWithStudent(q, 10);
//   fastgda::Ranking slow = session->runTeacher(q, {}, job);  // also saved, see teacherResultPath
//   fastgda::DistillSummary d = session->distillStudent({}, onPoint, job);  // a new student
//
// Thread safety: every method may be called from a worker thread. Generation, student and encoding
// share one model and take turns; the teacher unlearns on its own copy of the model, so it runs
// beside them, one teacher query at a time.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <opencv2/core/mat.hpp>

#include "attribution/ranking.h"
#include "bundle/bundle.h"
#include "eval/data_scaling.h"
#include "eval/evaluation.h"
#include "model/sampler_defaults.h"
#include "session/distillation.h"
#include "student/student_options.h"
#include "teacher/teacher_options.h"
#include "util/job.h"

namespace fastgda {

class Dataset;

// A query: an image and its prompt, generated, taken from the training set or read from a file.
struct Query {
  enum class Kind { Generated, TrainingImage, ImageFile };
  Kind kind = Kind::Generated;
  std::string prompt;
  uint64_t seed = 0;                        // Generated: DDIM settings
  int steps = kDefaultSamplerSteps;         //
  double guidance = kDefaultGuidanceScale;  //
  int64_t trainingIndex = -1;               // TrainingImage: its index and its record's id
  std::string trainingId;
  std::string testId;         // Generated: a held-out test query's id (when it is one), else ""
  std::string file;           // ImageFile
  cv::Mat image;              // CV_8UC3 RGB at the model's resolution
  std::vector<float> latent;  // C×h×w, the generated latent; empty for other kinds

  // 16 hex digits, a hash of what defines the query: the prompt, and the DDIM settings (generated),
  // the record's id (training image) or the pixels (image file).
  std::string key() const;
};

class AttributionSession {
 public:
  // Opens the bundle, its training set and (when it has one) its model on `device` (a request of
  // util/device.h: "auto", "cpu", "cuda:N"). Errors name the file, or the device that is not here.
  static std::shared_ptr<AttributionSession> open(const std::string& bundleDir,
                                                  const std::string& device = "auto");
  ~AttributionSession();
  AttributionSession(const AttributionSession&) = delete;
  AttributionSession& operator=(const AttributionSession&) = delete;

  const Bundle& bundle() const;
  std::shared_ptr<const Dataset> dataset() const;
  bool hasModel() const;
  // Where its computations run, resolved: "cpu" or "cuda:N".
  const std::string& device() const;
  // The default student's feature space, "" when the bundle has no student.
  std::string studentSpace() const;
  // The data-scaling curve of the default student's space (`fastgda data-scaling`), when the
  // bundle has one; a damaged file is an Error naming it.
  std::optional<DataScalingCurve> scalingCurve() const;

  Query generate(const std::string& prompt, uint64_t seed, int steps, double guidance,
                 const JobContext& job = {});
  Query trainingImageQuery(int64_t index) const;
  // Any image file (squared, resized, alpha on white) with the prompt the user gives it.
  Query imageFileQuery(const std::string& path, const std::string& prompt) const;

  // Loads the default student and its index (built and saved when missing). Errors when none.
  void openStudent(const JobContext& job = {});
  bool isStudentOpen() const;  // never waits, also while the student is being opened
  Ranking attributeWithStudent(const Query& query, int k);

  // The top k (k <= 0: all) of any method by name (core/methods/attribution_method.h: "student",
  // "student:SPACE", "raw:SPACE", "random", "teacher:NAME", "file:PATH", "raw:npy:DIR"), opened
  // when first asked for and kept. "teacher" is the stored result when there is one
  // (storedTeacherRanking), else the teacher runs now (minutes) and its result is saved
  // (runTeacher). A generated query's image is decoded from its latent in full precision, as the
  // evaluation does. Errors name a method that does not answer this query (an import lists its
  // queries; a held-out test query made again is known by its id).
  Ranking rank(const std::string& method, const Query& query, int64_t k,
               const JobContext& job = {});
  // What a method answers from, as (what, fingerprint) pairs of stored bytes: the model, then the
  // method's own (a student's features and weights, a raw space's features, an import's files).
  std::vector<std::pair<std::string, std::string>> methodFingerprints(const std::string& method,
                                                                      const JobContext& job = {});
  // SHA-256 of the query image the methods see. Computed, so it may differ in its last bits
  // between CPUs, kernels and thread counts (tests/bundle/tst_portability.cpp measures that).
  std::string queryImageSha256(const Query& query);

  // Where the studio keeps a teacher result: <bundle>/teacher/studio/<model>/<key>.json, where
  // <model> is a fingerprint of the model's and the training set's stored bytes, so a retrained
  // model or another dataset never shows a stale result. When the bundle cannot be written (an
  // installed one), the same layout under the user's data folder (QStandardPaths'
  // AppLocalDataLocation/teacher-results).
  std::string teacherResultPath(const Query& query) const;
  std::string userTeacherResultPath(const Query& query) const;
  // The stored teacher ranking of this query, if a complete result file exists: the studio's own
  // (either path above), or for a generated query one of the held-out test queries
  // (<bundle>/teacher/test.jsonl and teacher/test/<id>.json) with the same prompt and settings.
  std::optional<Ranking> storedTeacherRanking(const Query& query) const;
  // The held-out test queries that have a teacher result, as generated queries without images
  // (prompt, seed, steps, guidance), in the batch file's order, as found when the bundle was
  // opened or last reloaded.
  std::vector<Query> testQueries() const;
  // Reads them again (a `fastgda teacher --batch` beside the studio adds results); true when the
  // list changed.
  bool reloadTestQueries();
  // Runs the teacher over the whole training set and saves the result (atomically; a bundle that
  // cannot be written to gets a warning on stderr, not an error). Throws Cancelled when job's flag
  // is raised; nothing is written then. Under the result's lock (teacher/batch.h): when another
  // program is computing the same query, this waits for its result and returns it.
  Ranking runTeacher(const Query& query, const TeacherOptions& options, const JobContext& job = {});

  // Every method against the teacher on the test queries (core/eval/evaluation.h), from
  // <bundle>/eval/report.json when current, else computed (minutes) and saved.
  EvaluationReport evaluation(const JobContext& job = {}, bool* fromCache = nullptr);

  // Distils a student from the teacher's training results (<bundle>/teacher/train) as `fastgda
  // distill` does: features, training with a checkpoint each epoch in <bundle>/student/<space>/
  // checkpoint (a stopped run with the same settings resumes from it), then student.pt, loss.csv
  // and the FAISS index, each written atomically. It becomes the default student when the
  // bundle had none; then, and when it replaces the default student, the next openStudent()
  // loads it. onPoint (optional, on this thread) hears the loss curve. Throws Cancelled when
  // job's flag is raised before saving begins: the student already in that space is untouched.
  // It runs on the session's device, whatever options.device says. Errors name bad settings (a
  // hidden width < 1, an unknown feature space) or missing results.
  DistillSummary distillStudent(const StudentOptions& options,
                                const DistillPointCallback& onPoint = {},
                                const JobContext& job = {});
  // The feature spaces that have a student in the bundle, sorted.
  std::vector<std::string> students() const;
  // One student (its feature space) against the teacher on the held-out test queries: its row
  // of evaluateAgainstTeacher with only that student and no raw spaces, at evaluationKs(). Not
  // cached. Errors when the bundle has no test queries or no student in that space.
  MethodEvaluation evaluateStudent(const std::string& space, const JobContext& job = {});
  // The mAP levels of evaluateStudent(), one per MethodEvaluation::map entry: EvaluationOptions'
  // (50, 100, 400) that do not exceed the training set; when none fits (a tiny bundle), N/8, N/4
  // and N/2 of its N images.
  std::vector<int64_t> evaluationKs() const;

 private:
  AttributionSession();
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace fastgda
