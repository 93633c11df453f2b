# intentstream_embed_files(OUTPUT <file.cc> NAMESPACE <ns> FUNCTION <name> FILES <path>...)
#
# Generates a C++ source that compiles the given data files into the binary, so tools
# and tests run from any directory with the repository's data as their default:
#
#   namespace <ns> { std::string_view <name>(std::string_view file_name); }
#
# returns a file's bytes by its base name ("" when unknown). The source is regenerated
# whenever one of the files changes.
function(intentstream_embed_files)
  cmake_parse_arguments(E "" "OUTPUT;NAMESPACE;FUNCTION" "FILES" ${ARGN})
  add_custom_command(
    OUTPUT ${E_OUTPUT}
    COMMAND ${CMAKE_COMMAND} -DOUTPUT=${E_OUTPUT} -DNAMESPACE=${E_NAMESPACE}
            -DFUNCTION=${E_FUNCTION} "-DFILES=${E_FILES}"
            -P ${PROJECT_SOURCE_DIR}/cmake/EmbedFilesScript.cmake
    DEPENDS ${E_FILES} ${PROJECT_SOURCE_DIR}/cmake/EmbedFilesScript.cmake
    COMMENT "Embedding ${E_FUNCTION} data files"
    VERBATIM)
endfunction()
