# `cmake --install build --prefix P`: what a user runs after building. The installed names are the
# ones the documentation uses: P/bin/chorus, P/bin/chorus-mpirun (scripts/mpirun.sh: mpirun with
# the flags one machine needs), the experiment configs under P/share/chorus/configs and the PyTorch
# loader under P/share/chorus/python. tests/install/install.sh installs into a temporary prefix
# and trains from it.
include(GNUInstallDirs)

# The installed binary keeps the run path of the libraries it links outside the build tree
# (LibTorch, MPI, HDF5 in their own folders), and nothing of the build tree.
set_target_properties(chorus PROPERTIES INSTALL_RPATH_USE_LINK_PATH TRUE)
install(TARGETS chorus RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(PROGRAMS ${CMAKE_SOURCE_DIR}/scripts/mpirun.sh DESTINATION ${CMAKE_INSTALL_BINDIR}
        RENAME chorus-mpirun)
install(DIRECTORY ${CMAKE_SOURCE_DIR}/configs/ DESTINATION ${CMAKE_INSTALL_DATADIR}/chorus/configs
        FILES_MATCHING PATTERN "*.yaml")
install(PROGRAMS ${CMAKE_SOURCE_DIR}/python/chorus_torch.py
        DESTINATION ${CMAKE_INSTALL_DATADIR}/chorus/python)
install(DIRECTORY ${CMAKE_SOURCE_DIR}/python/chorus_torch
        DESTINATION ${CMAKE_INSTALL_DATADIR}/chorus/python
        FILES_MATCHING PATTERN "*.py" PATTERN "__pycache__" EXCLUDE)
