//! The executors through the library, in one binary: the thread pool follows the
//! plan's priorities (`priority`); the process executor keeps data where it was made
//! and blames a crash on the task that crashed (`processes`); retries, task timeouts
//! and stop requests work under every executor, and leave no command behind (`limits`);
//! results past a memory limit go to scratch files and come back unchanged (`spill`).

mod limits;
mod priority;
mod processes;
mod spill;
