/* keywords.c: the keyword table of keywords.h, as words and roles. */
#include <string.h>

#include "keywords.h"

#define KEYWORD_ROW(word, token, role) {word, role},
const struct keyword keywords[] = {CXR_KEYWORDS(KEYWORD_ROW)};
#undef KEYWORD_ROW
const int nkeywords = (int)(sizeof keywords / sizeof keywords[0]);

const struct keyword *keyword_find(const char *s, size_t n)
{
	for (int i = 0; i < nkeywords; i++)
		if (strlen(keywords[i].word) == n && memcmp(keywords[i].word, s, n) == 0)
			return &keywords[i];
	return NULL;
}
