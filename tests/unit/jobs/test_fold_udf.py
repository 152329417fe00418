"""The search index's fold runs on Spark executors, whose image has the jobs' dependencies but not `contract`."""

import os
import subprocess
import sys

from contract.records import fold

#: Loads a pickled function where `import contract` fails, as on an executor, and folds each argument with it.
EXECUTOR = ("import pickle, sys; sys.modules['contract'] = None; "
            "fold = pickle.loads(sys.stdin.buffer.read()); print(*map(fold, sys.argv[1:]), sep='\\n')")


def test_the_fold_udf_travels_as_code_and_folds_as_the_contract_does():
    from pyspark import cloudpickle  # what PySpark pickles a UDF's function with

    from jobs import monthly

    payload = cloudpickle.dumps(monthly.shipped_fold())
    titles = ["Zürich_Straße", "東京都", "İstanbul", "Ｔｏｋｙｏ"]
    done = subprocess.run([sys.executable, "-c", EXECUTOR, *titles], input=payload, capture_output=True, check=True,
                          env={**os.environ, "PYTHONIOENCODING": "utf-8"})
    assert done.stdout.decode("utf-8").splitlines() == [fold(t) for t in titles]
