#include "slurm/slurm.h"

#include <QDir>
#include <QFile>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <map>

#include "util/error.h"
#include "util/files.h"

namespace fastgda {
namespace {

// Runs a Slurm command and returns its stdout; errors name the command and carry its stderr.
std::string runSlurm(const QString& program, const QStringList& args, bool mustSucceed = true) {
  QProcess p;
  p.start(program, args);
  if (!p.waitForStarted(10000)) {
    if (!mustSucceed) return {};
    fail(program.toStdString(), ": cannot run it (is Slurm installed and on PATH?)");
  }
  if (!p.waitForFinished(60000)) {
    p.kill();
    p.waitForFinished();
    fail(program.toStdString(), " ", args.join(QLatin1Char(' ')).toStdString(),
         ": no answer within 60 s");
  }
  if (p.exitStatus() != QProcess::NormalExit || p.exitCode() != 0) {
    if (!mustSucceed) return {};
    fail(program.toStdString(), " ", args.join(QLatin1Char(' ')).toStdString(), ": ",
         QString::fromUtf8(p.readAllStandardError()).trimmed().toStdString());
  }
  return QString::fromUtf8(p.readAllStandardOutput()).trimmed().toStdString();
}

std::string commandLine(const std::vector<std::string>& words) {
  std::string line;
  for (const std::string& w : words) {
    std::string quoted = shellQuote(w);
    // The placeholders stay outside quotes, so the shell expands them.
    for (const auto& [from, to] :
         {std::pair<std::string, std::string>{"{TASK}", "'\"$SLURM_ARRAY_TASK_ID\"'"},
          {"{CPUS}", "'\"$SLURM_CPUS_PER_TASK\"'"}}) {
      for (size_t at = quoted.find(from); at != std::string::npos; at = quoted.find(from, at))
        quoted.replace(at, from.size(), to);
    }
    line += (line.empty() ? "" : " ") + quoted;
  }
  return line;
}

std::string script(const SlurmJob& job, const std::string& name, bool array,
                   const std::vector<std::string>& command) {
  std::string s = "#!/bin/bash\n";
  s += "# Written by fastgda (" + job.kind + "). Resubmit: sbatch" +
       std::string(array ? " --array=0-" + std::to_string(job.tasks - 1) : "") + " " + name +
       "; each task is resumable, so a rerun only does what is missing.\n";
  s += "#SBATCH --job-name=" + name + "\n";
  s += "#SBATCH --output=" + job.scriptDir + "/" + name + (array ? "-%A_%a.log" : "-%j.log") + "\n";
  s += "#SBATCH --cpus-per-task=" + std::to_string(job.cpusPerTask) + "\n";
  if (!job.partition.empty()) s += "#SBATCH --partition=" + job.partition + "\n";
  if (!job.time.empty()) s += "#SBATCH --time=" + job.time + "\n";
  for (const std::string& a : job.sbatchArgs) s += "#SBATCH " + a + "\n";
  s += "set -euo pipefail\n";
  s += "exec " + commandLine(command) + "\n";
  return s;
}

}  // namespace

std::string shellQuote(const std::string& text) {
  std::string q = "'";
  for (char c : text) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

std::string SlurmSubmission::toJson() const {
  QJsonObject o;
  o["kind"] = QString::fromStdString(kind);
  o["name"] = QString::fromStdString(name);
  o["array_job"] = QString::fromStdString(arrayJob);
  o["summary_job"] = QString::fromStdString(summaryJob);
  o["script"] = QString::fromStdString(script);
  o["summary_script"] = QString::fromStdString(summaryScript);
  o["batch"] = QString::fromStdString(batchFile);
  o["out"] = QString::fromStdString(outDir);
  o["tasks"] = tasks;
  return QJsonDocument(o).toJson(QJsonDocument::Compact).toStdString();
}

SlurmSubmission submitSlurmJob(const SlurmJob& job, const std::string& registryDir) {
  if (job.tasks < 1) fail("slurm: --tasks must be >= 1, found ", job.tasks);
  if (job.cpusPerTask < 1) fail("slurm: --cpus-per-task must be >= 1, found ", job.cpusPerTask);
  QDir().mkpath(QString::fromStdString(job.scriptDir));
  SlurmSubmission s;
  s.kind = job.kind;
  s.name = job.name;
  s.tasks = job.tasks;
  s.batchFile = job.batchFile;
  s.outDir = job.outDir;
  s.script = job.scriptDir + "/" + job.name + ".sbatch";
  writeFileAtomically(s.script, script(job, job.name, true, job.taskCommand));
  std::string indices;
  if (job.taskIndices.empty()) {
    indices = "0-" + std::to_string(job.tasks - 1);
  } else {
    for (int i : job.taskIndices) {
      if (i < 0 || i >= job.tasks) fail("slurm: task ", i, " is outside [0, ", job.tasks, ")");
      indices += (indices.empty() ? "" : ",") + std::to_string(i);
    }
  }
  s.arrayJob = runSlurm(QStringLiteral("sbatch"),
                        {QStringLiteral("--parsable"), QString::fromStdString("--array=" + indices),
                         QString::fromStdString(s.script)});
  s.arrayJob = s.arrayJob.substr(0, s.arrayJob.find(';'));  // "id;cluster" on federations
  if (!job.summaryCommand.empty()) {
    const std::string name = job.name + "-summary";
    s.summaryScript = job.scriptDir + "/" + name + ".sbatch";
    SlurmJob one = job;
    one.cpusPerTask = 1;
    writeFileAtomically(s.summaryScript, script(one, name, false, job.summaryCommand));
    s.summaryJob = runSlurm(QStringLiteral("sbatch"),
                            {QStringLiteral("--parsable"),
                             QString::fromStdString("--dependency=afterany:" + s.arrayJob),
                             QString::fromStdString(s.summaryScript)});
    s.summaryJob = s.summaryJob.substr(0, s.summaryJob.find(';'));
  }
  // The registry: rewritten whole, atomically, so a reader never sees half a line.
  QDir().mkpath(QString::fromStdString(registryDir));
  const std::string registry = registryDir + "/jobs.jsonl";
  std::string text;
  if (QFile::exists(QString::fromStdString(registry))) {
    const std::vector<char> bytes = readFileBytes(registry);
    text.assign(bytes.begin(), bytes.end());
  }
  writeFileAtomically(registry, text + s.toJson() + "\n");
  return s;
}

std::vector<SlurmSubmission> loadSlurmSubmissions(const std::string& registryDir) {
  const std::string registry = registryDir + "/jobs.jsonl";
  std::vector<SlurmSubmission> out;
  if (!QFile::exists(QString::fromStdString(registry))) return out;
  const std::vector<char> bytes = readFileBytes(registry);
  const std::vector<QByteArray> lines = splitLines(bytes.data(), bytes.size());
  for (size_t i = 0; i < lines.size(); ++i) {
    if (lines[i].trimmed().isEmpty()) continue;
    const QJsonObject o = QJsonDocument::fromJson(lines[i]).object();
    if (o["array_job"].toString().isEmpty())
      fail(registry, ": line ", i + 1, " is not a submission (no 'array_job')");
    SlurmSubmission s;
    s.kind = o["kind"].toString().toStdString();
    s.name = o["name"].toString().toStdString();
    s.arrayJob = o["array_job"].toString().toStdString();
    s.summaryJob = o["summary_job"].toString().toStdString();
    s.script = o["script"].toString().toStdString();
    s.summaryScript = o["summary_script"].toString().toStdString();
    s.batchFile = o["batch"].toString().toStdString();
    s.outDir = o["out"].toString().toStdString();
    s.tasks = o["tasks"].toInt();
    out.push_back(std::move(s));
  }
  return out;
}

std::vector<std::pair<std::string, int>> slurmJobStates(const std::string& jobId) {
  std::map<std::string, int> counts;
  // squeue knows queued and running tasks (-r: one line per array task).
  const std::string queued =
      runSlurm(QStringLiteral("squeue"),
               {QStringLiteral("-h"), QStringLiteral("-r"), QStringLiteral("-j"),
                QString::fromStdString(jobId), QStringLiteral("-o"), QStringLiteral("%T")},
               false);
  for (const QString& line : QString::fromStdString(queued).split(QLatin1Char('\n')))
    if (!line.trimmed().isEmpty()) ++counts[line.trimmed().toStdString()];
  if (counts.empty()) {
    // sacct knows finished ones, where the cluster keeps accounting.
    const std::string finished = runSlurm(
        QStringLiteral("sacct"),
        {QStringLiteral("-n"), QStringLiteral("-X"), QStringLiteral("-P"), QStringLiteral("-j"),
         QString::fromStdString(jobId), QStringLiteral("-o"), QStringLiteral("State")},
        false);
    for (const QString& line : QString::fromStdString(finished).split(QLatin1Char('\n')))
      if (!line.trimmed().isEmpty())
        ++counts[line.trimmed().split(QLatin1Char(' ')).front().toStdString()];
  }
  return {counts.begin(), counts.end()};
}

void cancelSlurmJob(const std::string& jobId) {
  runSlurm(QStringLiteral("scancel"), {QString::fromStdString(jobId)});
}

}  // namespace fastgda
