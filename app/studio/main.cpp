// fastgda-studio: the desktop application. Opens the folder given, else the default bundle chosen
// in Settings, else the built-in bundle.
#include <QApplication>
#include <QCommandLineParser>

#include "bundle/bundle.h"
#include "job_manager.h"
#include "language.h"
#include "main_window.h"

int main(int argc, char** argv) {
  QApplication app(argc, argv);
  QApplication::setApplicationName(QStringLiteral("FastGDA Studio"));
  QApplication::setOrganizationName(QStringLiteral("FastGDA"));  // where QSettings keeps settings
  // Lets Wayland compositors match the window to the installed .desktop file and its icon.
  QGuiApplication::setDesktopFileName(QStringLiteral(FASTGDA_APP_ID));
  fastgda::ui::installTranslators();  // the language chosen in Settings, else the system's
  QCommandLineParser parser;
  parser.setApplicationDescription(
      QCoreApplication::translate("main", "Data attribution for text-to-image models."));
  parser.addHelpOption();
  parser.addPositionalArgument(
      QStringLiteral("bundle"),
      QCoreApplication::translate(
          "main",
          "Bundle folder (default: the one chosen in Settings, else the built-in bundle)."));
  parser.process(app);
  const QString bundle = parser.positionalArguments().isEmpty()
                             ? fastgda::ui::MainWindow::startupBundle()
                             : parser.positionalArguments().front();
  fastgda::ui::MainWindow window;
  window.show();
  // Loaded as a job, so that the window paints and answers while a large model loads. A default
  // bundle that has moved away since it was chosen: the error says so, then the built-in opens.
  const QString builtin = QString::fromStdString(fastgda::defaultBundleDir());
  const int opening = window.openBundleInBackground(bundle);
  if (parser.positionalArguments().isEmpty() && bundle != builtin)
    QObject::connect(window.jobs(), &fastgda::ui::JobManager::failed, &window,
                     [&window, opening, builtin](int id) {
                       if (id == opening) window.openBundleInBackground(builtin);
                     });
  return app.exec();
}
