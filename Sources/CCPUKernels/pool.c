// A pool of worker threads for the CPU backend's parallel loops (see CCPUKernels.h, canopy_parallel_for).
//
// One job at a time: the caller publishes it (function, context, chunk count) and bumps a generation counter;
// workers spin briefly on the counter (a new job usually follows within microseconds during a training step),
// then sleep on a condition variable. Every participant, the caller included, takes chunks by an atomic counter
// until none are left; the caller returns once every chunk has finished. A second caller while a job runs (another
// thread, or a chunk that itself asks for a parallel loop) runs its chunks on its own thread.
#include "CCPUKernels.h"
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>

enum { canopy_pool_maximum_workers = 63 };
// Polls before a worker sleeps: plain loads of a cached line, some 10–20 µs. No PAUSE instruction here or in the
// caller's waits: under KVM
// (these machines) a run of PAUSEs triggers pause-loop exiting, and 20,000 paused polls made W3's CPU step 1.4×
// slower than sleeping at once; unpaused polls of this length were as fast as or faster than both.
static const long spin_rounds = 20000;

static pthread_mutex_t job_lock = PTHREAD_MUTEX_INITIALIZER;   // held by the caller of the running job
static pthread_mutex_t sleep_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t wake = PTHREAD_COND_INITIALIZER;
static int workers_started = 0;                                 // under job_lock

// The job. Its fields are written only while `generation` is odd and no worker is `active`; a worker reads them
// only after announcing itself in `active` and then seeing the same even generation it woke for (the
// generation/active handshake is sequentially consistent, so a caller and a worker cannot both miss each other).
static canopy_chunk_function job_function;
static void *job_context;
static long job_chunks;
static long job_participants;                                  // pool workers allowed to join this job
static _Atomic long generation = 0;                            // even: a job published; odd: being written
static _Atomic long active = 0;                                // workers between announcing and leaving a job
static _Atomic long next_chunk = 0;
static _Atomic long finished_chunks = 0;
static _Atomic long joined = 0;                                // pool workers that joined this job

static void run_chunks(canopy_chunk_function function, void *context, long chunks) {
    long done = 0;
    for (;;) {
        const long chunk = atomic_fetch_add_explicit(&next_chunk, 1, memory_order_relaxed);
        if (chunk >= chunks) break;
        function(context, chunk);
        done++;
    }
    if (done) atomic_fetch_add_explicit(&finished_chunks, done, memory_order_release);
}

/// Waits for a published generation other than `seen`: polls, then sleeps.
static long wait_for_job(long seen) {
    for (long round = 0; round < spin_rounds; round++) {
        const long current = atomic_load(&generation);
        if (current != seen && (current & 1) == 0) return current;
    }
    pthread_mutex_lock(&sleep_lock);
    long current;
    while ((current = atomic_load(&generation)) == seen || (current & 1) != 0) pthread_cond_wait(&wake, &sleep_lock);
    pthread_mutex_unlock(&sleep_lock);
    return current;
}

static void *worker_main(void *unused) {
    (void)unused;
    long seen = atomic_load(&generation) & ~1L;
    for (;;) {
        const long current = wait_for_job(seen);
        atomic_fetch_add(&active, 1);
        if (atomic_load(&generation) == current) {
            seen = current;
            if (atomic_fetch_add(&joined, 1) < job_participants) run_chunks(job_function, job_context, job_chunks);
        }
        atomic_fetch_sub(&active, 1);
    }
    return NULL;
}

void canopy_parallel_for(long chunks, long threads, canopy_chunk_function function, void *context) {
    if (chunks <= 0) return;
    long helpers = (threads < chunks ? threads : chunks) - 1;
    if (helpers > canopy_pool_maximum_workers) helpers = canopy_pool_maximum_workers;
    if (helpers <= 0 || pthread_mutex_trylock(&job_lock) != 0) {
        for (long chunk = 0; chunk < chunks; chunk++) function(context, chunk);
        return;
    }
    while (workers_started < helpers) {
        pthread_t thread;
        pthread_attr_t attributes;
        pthread_attr_init(&attributes);
        pthread_attr_setdetachstate(&attributes, PTHREAD_CREATE_DETACHED);
        const int failed = pthread_create(&thread, &attributes, worker_main, NULL);
        pthread_attr_destroy(&attributes);
        if (failed) break;
        workers_started++;
    }
    if (helpers > workers_started) helpers = workers_started;
    // Close the previous job: no worker may read the fields while they change.
    atomic_fetch_add(&generation, 1);
    while (atomic_load(&active) != 0) continue;
    job_function = function;
    job_context = context;
    job_chunks = chunks;
    job_participants = helpers;
    atomic_store(&next_chunk, 0);
    atomic_store(&finished_chunks, 0);
    atomic_store(&joined, 0);
    pthread_mutex_lock(&sleep_lock);
    atomic_fetch_add(&generation, 1);
    pthread_cond_broadcast(&wake);
    pthread_mutex_unlock(&sleep_lock);
    run_chunks(function, context, chunks);
    while (atomic_load_explicit(&finished_chunks, memory_order_acquire) < chunks) continue;
    pthread_mutex_unlock(&job_lock);
}
