//! The executors through the library, in one binary: the thread pool follows the
//! plan's priorities (`priority`); the process executor keeps data where it was made
//! and blames a crash on the task that crashed (`processes`).

mod priority;
mod processes;
