# embed.awk: turn stdlib/*.cxr into a C table (build/stdlib_scripts.c).
# Usage: awk -f src/embed.awk stdlib/a.cxr stdlib/b.cxr > build/stdlib_scripts.c
BEGIN {
	print "/* Generated from the stdlib/ scripts by src/embed.awk: do not edit. */"
	print "#include <string.h>"
	print "#include \"front/stdlib_scripts.h\""
	print "const struct stdlib_script stdlib_scripts[] = {"
}
FNR == 1 {
	if (NR > 1)
		print "\t},"
	name = FILENAME
	sub(/^.*\//, "", name)
	sub(/\.cxr$/, "", name)
	printf "\t{\"%s\",\n", name
}
{
	line = $0
	gsub(/\\/, "\\\\", line)
	gsub(/"/, "\\\"", line)
	printf "\t\t\"%s\\n\"\n", line
}
END {
	if (NR > 0)
		print "\t},"
	print "\t{NULL, NULL},"
	print "};"
	print "const struct stdlib_script *stdlib_find(const char *name)"
	print "{"
	print "\tfor (int i = 0; stdlib_scripts[i].name; i++)"
	print "\t\tif (strcmp(stdlib_scripts[i].name, name) == 0)"
	print "\t\t\treturn &stdlib_scripts[i];"
	print "\treturn NULL;"
	print "}"
}
