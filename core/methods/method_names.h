// Method names as the user sees them: the titles of rows in tables, charts and figures, and the
// teacher variants a bundle offers. No LibTorch types, so ui/ includes it (attribution_method.h
// opens methods by these names).
#pragma once

#include <string>
#include <vector>

namespace fastgda {

struct Bundle;

// The title a table, chart or figure row shows for a method, in the application's language
// ("Student (FastGDA, cnn+text)", "Teacher (unlearning)", "Raw features (hog)", "Random", ...).
std::string methodTitle(const std::string& name);

// The names of the teacher variants, <bundle>/teacher/test-NAME/ holding at least one result,
// sorted.
std::vector<std::string> teacherVariants(const Bundle& bundle);

}  // namespace fastgda
