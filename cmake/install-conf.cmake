# Installs the sample configuration without ever overwriting one that exists.
#
# Run by `cmake --install` (install(SCRIPT) in CMakeLists.txt), after
# DM_CONF_SAMPLE (the sample in the source tree) and DM_CONF_DIR (the absolute
# configuration directory, /etc/dormant) were set. DESTDIR is honoured.
#
#   no dormant.conf yet          the sample becomes dormant.conf
#   dormant.conf equal to it     nothing to do ("Up-to-date")
#   dormant.conf differs         kept as it is; the sample is written beside
#                                it as dormant.conf.new, and the install
#                                output says so
#
# An operator's file is never replaced: an upgrade that changes the sample
# leaves the choice of merging to them (`diff dormant.conf dormant.conf.new`).

# file(INSTALL) adds DESTDIR itself; the checks need it spelled out.
set(dir "$ENV{DESTDIR}${DM_CONF_DIR}")
set(conf "${dir}/dormant.conf")

if(NOT EXISTS "${conf}")
  file(INSTALL DESTINATION "${DM_CONF_DIR}" TYPE FILE
       PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ
       FILES "${DM_CONF_SAMPLE}")
  return()
endif()

file(SHA256 "${conf}" have)
file(SHA256 "${DM_CONF_SAMPLE}" sample)
if(have STREQUAL sample)
  message(STATUS "Up-to-date: ${conf}")
  file(REMOVE "${dir}/dormant.conf.new")
  return()
endif()

file(INSTALL DESTINATION "${DM_CONF_DIR}" TYPE FILE RENAME dormant.conf.new
     PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ
     FILES "${DM_CONF_SAMPLE}")
message(STATUS "Kept: ${conf} differs from the sample and was NOT overwritten; "
               "the new sample is ${dir}/dormant.conf.new "
               "(compare: diff ${conf} ${dir}/dormant.conf.new)")
