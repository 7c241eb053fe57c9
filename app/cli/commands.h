// One function per subcommand. Each parses its own options (arguments exclude the program name
// and the subcommand), returns the exit code and lets fastgda::Error propagate to main().
#pragma once

#include <QStringList>
#include <memory>

class QCoreApplication;

namespace fastgda::cli {

int runInfo(const QStringList& arguments);
int runDataset(const QStringList& arguments);
int runTrainModel(const QStringList& arguments);
int runGenerate(const QStringList& arguments);
int runBench(const QStringList& arguments);
int runTeacher(const QStringList& arguments);
int runTeacherPlan(const QStringList& arguments);
int runBenchTeacher(const QStringList& arguments);
int runTeacherSanity(const QStringList& arguments);
int runTeacherRepeatability(const QStringList& arguments);
int runFidelity(const QStringList& arguments);
int runDistill(const QStringList& arguments);
int runDataScaling(const QStringList& arguments);
int runTune(const QStringList& arguments);
int runAttribute(const QStringList& arguments);
int runEval(const QStringList& arguments);
int runRefingerprint(const QStringList& arguments);
int runCounterfactual(const QStringList& arguments);
int runSlurm(const QStringList& arguments);
int runBenchAttribute(const QStringList& arguments);
int runBenchRetrain(const QStringList& arguments);
// Only in builds with the studio (FASTGDA_WITH_GUI): export, bench studio, and the QApplication
// they paint with.
int runExport(const QStringList& arguments);
int runBenchStudio(const QStringList& arguments);
std::unique_ptr<QCoreApplication> makeGuiApplication(int& argc, char** argv);

}  // namespace fastgda::cli
