# The bot as one image: `onewindow run` by default. See docker-compose.yml
# for several processes on one PostgreSQL behind one port.
FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY bot bot
COPY flows flows
COPY handlers handlers
COPY notifications notifications
COPY storage storage
RUN pip install --no-cache-dir . && rm -rf /app/*
ENV DATA_DIR=/data WEB_HOST=0.0.0.0 WEB_PORT=8080
VOLUME /data
EXPOSE 8080
CMD ["onewindow", "run"]
