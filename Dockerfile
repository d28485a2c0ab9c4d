# The rmt-hub image for production (docker-compose.yml). Python 3.11, non-root.
FROM python:3.11.11-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
RUN useradd --create-home --uid 10001 hub \
 && install -d -o hub -g hub -m 0700 /home/hub/keys /home/hub/data
WORKDIR /app
COPY pyproject.toml README.md ./
COPY hub ./hub
COPY schemas ./schemas
COPY topics ./topics
COPY consent ./consent
COPY connectors ./connectors
RUN pip install .
USER hub
ENV HUB_DATA_DIR=/home/hub/data HUB_LOG_JSON=true
ENTRYPOINT ["rmt-hub"]
CMD ["up"]
