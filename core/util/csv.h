// CSV as spreadsheets read it (RFC 4180): fields with a comma, quote or line break are quoted,
// quotes doubled. Used for every table the program writes (rankings, evaluations, chart data).
//
//   std::string line = fastgda::csvRow({"3", "red apple, google style"});  // 3,"red apple, ..."
//   auto rows = fastgda::parseCsv(text, "ranking.csv");                    // back again
#pragma once

#include <string>
#include <vector>

namespace fastgda {

std::string csvField(const std::string& text);
std::string csvRow(const std::vector<std::string>& fields);  // ends with '\n'

// Rows of fields; a final line break does not start an empty row. Throws Error naming `source`
// and the line of an unterminated quoted field or text after a closing quote.
std::vector<std::vector<std::string>> parseCsv(const std::string& text, const std::string& source);

}  // namespace fastgda
