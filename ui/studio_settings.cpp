#include "studio_settings.h"

namespace fastgda::ui {
namespace {

// The keys as they have always been stored, so an update keeps a user's settings.
const QString kThreads = QStringLiteral("threads");
const QString kDevice = QStringLiteral("device");
const QString kDefaultBundle = QStringLiteral("defaultBundle");
const QString kRecentBundles = QStringLiteral("recentBundles");
const QString kLanguage = QStringLiteral("language");
const QString kGeometry = QStringLiteral("window/geometry");
const QString kState = QStringLiteral("window/state");

}  // namespace

int StudioSettings::threads() const {
  return std::max(0, settings_.value(kThreads, 0).toInt());
}

void StudioSettings::setThreads(int threads) {
  settings_.setValue(kThreads, threads);
}

QString StudioSettings::device() const {
  return settings_.value(kDevice, QStringLiteral("auto")).toString();
}

void StudioSettings::setDevice(const QString& device) {
  settings_.setValue(kDevice, device);
}

QString StudioSettings::defaultBundle() const {
  return settings_.value(kDefaultBundle).toString();
}

void StudioSettings::setDefaultBundle(const QString& dir) {
  settings_.setValue(kDefaultBundle, dir);
}

QStringList StudioSettings::recentBundles() const {
  return settings_.value(kRecentBundles).toStringList();
}

void StudioSettings::addRecentBundle(const QString& dir) {
  QStringList recent = recentBundles();
  recent.removeAll(dir);
  recent.prepend(dir);
  while (recent.size() > kMaxRecentBundles) recent.removeLast();
  settings_.setValue(kRecentBundles, recent);
}

QString StudioSettings::language() const {
  return settings_.value(kLanguage).toString();
}

void StudioSettings::setLanguage(const QString& code) {
  if (code.isEmpty())
    settings_.remove(kLanguage);
  else
    settings_.setValue(kLanguage, code);
}

QByteArray StudioSettings::windowGeometry() const {
  return settings_.value(kGeometry).toByteArray();
}

QByteArray StudioSettings::windowState() const {
  return settings_.value(kState).toByteArray();
}

void StudioSettings::setWindow(const QByteArray& geometry, const QByteArray& state) {
  settings_.setValue(kGeometry, geometry);
  settings_.setValue(kState, state);
}

}  // namespace fastgda::ui
