//! Load engine: validated plan -> measurements.
