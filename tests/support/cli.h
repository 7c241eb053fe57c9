// Runs the fastgda command-line tool built with the tests (FASTGDA_CLI, a compile definition every
// test gets) and collects what it did.
//
//   const CliRun r = runCli({"info", "--json"});
//   QVERIFY2(r.exitCode == 0, qPrintable(r.err));
//   QVERIFY2(cliError({"distill", ...}).isEmpty(), ...);   // "" when it succeeded
#pragma once

#include <QProcess>
#include <QProcessEnvironment>
#include <QString>
#include <QStringList>

namespace fastgda::testing {

struct CliRun {
  int exitCode = -1;  // -1 when it did not finish within the timeout (then killed)
  QString out, err;
};

// `environment`: variables set (or, with an empty value, removed) for this run only.
inline CliRun runCli(const QStringList& arguments, int timeoutMs = 600000,
                     const QList<QPair<QString, QString>>& environment = {}) {
  QProcess p;
  QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
  for (const auto& [name, value] : environment) {
    if (value.isEmpty())
      env.remove(name);
    else
      env.insert(name, value);
  }
  p.setProcessEnvironment(env);
  p.start(QStringLiteral(FASTGDA_CLI), arguments);
  CliRun r;
  if (!p.waitForFinished(timeoutMs)) {
    p.kill();
    p.waitForFinished();
  } else {
    r.exitCode = p.exitCode();
  }
  r.out = QString::fromUtf8(p.readAllStandardOutput());
  r.err = QString::fromUtf8(p.readAllStandardError());
  return r;
}

// "" when the command succeeded, else what it wrote on stderr (never empty then).
inline QString cliError(const QStringList& arguments) {
  const CliRun r = runCli(arguments);
  if (r.exitCode == 0) return {};
  return r.err.isEmpty() ? QStringLiteral("exit code %1").arg(r.exitCode) : r.err;
}

}  // namespace fastgda::testing
